"""When a sector system is late: its expected delivery schedule against its last delivery.

A system is expected to deliver at least once per period (day or month) by a local time (and,
for monthly systems, a day of the month). It is late when nothing new has been landed from it
since the deadline before the last one, plus its grace: the last period's data never came.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from maglumat.catalogue import Delivery
from pipelines.landing import list_batches


@dataclass(frozen=True)
class Freshness:
    system: str
    is_late: bool
    last_delivery: dt.datetime | None
    due_since: dt.datetime  # the deadline the last delivery had to beat

    @property
    def message(self) -> str:
        last = self.last_delivery.isoformat(timespec="minutes") if self.last_delivery else "never"
        state = "LATE" if self.is_late else "on time"
        due = f"{self.due_since:%Y-%m-%d %H:%M %Z}"
        return f"{self.system}: {state}; last delivery {last}, due since {due}"


def _deadline_on(day: dt.date, delivery: Delivery, zone: ZoneInfo) -> dt.datetime:
    hour, minute = (int(part) for part in delivery.expected_by.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def previous_deadlines(delivery: Delivery, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The last deadline before ``now`` and the one before it."""
    zone = ZoneInfo(delivery.timezone)
    local = now.astimezone(zone)
    if delivery.every == "day":
        last = _deadline_on(local.date(), delivery, zone)
        if last > local:
            last -= dt.timedelta(days=1)
        return last, last - dt.timedelta(days=1)
    day = delivery.day_of_month
    this_month = _deadline_on(local.date().replace(day=day), delivery, zone)
    last = this_month if this_month <= local else _month_before(this_month, day, delivery, zone)
    return last, _month_before(last, day, delivery, zone)


def _month_before(
    deadline: dt.datetime, day: int, delivery: Delivery, zone: ZoneInfo
) -> dt.datetime:
    first = deadline.date().replace(day=1) - dt.timedelta(days=1)
    return _deadline_on(first.replace(day=day), delivery, zone)


def assess(
    system: str, delivery: Delivery, last_delivery: dt.datetime | None, now: dt.datetime
) -> Freshness:
    """Whether ``system`` is late at ``now``, given when it last delivered new data."""
    last_deadline, deadline_before = previous_deadlines(delivery, now)
    grace = dt.timedelta(hours=delivery.grace_hours)
    if now < last_deadline + grace:
        # Within the grace after the last deadline, the period before that one is what counts.
        due_since = deadline_before - (last_deadline - deadline_before)
    else:
        due_since = deadline_before
    is_late = last_delivery is None or last_delivery < due_since
    return Freshness(system, is_late, last_delivery, due_since)


def last_delivery(landing_root: Path, system: str) -> dt.datetime | None:
    """When the system last delivered new data: the newest landed batch that has rows."""
    times = [
        dt.datetime.fromisoformat(manifest.extracted_at)
        for manifest in list_batches(landing_root, system)
        if manifest.row_count > 0
    ]
    return max(times) if times else None
