"""The one clock: every reading of the current time that decides something goes through here.

Instants are UTC (aware ``datetime``); calendar dates that a user sees (a report's period, "today"
in a quality rule, ``--as-of DATE``) are dates in Aşgabat, which is UTC+5 all year. From 19:00 to
24:00 UTC the Aşgabat date is the next day's, so a date is never taken from an instant without
:func:`local_date`.

``MAGLUMAT_CLOCK`` (an ISO 8601 instant with its offset, e.g. ``2026-12-31T23:30:00Z``) sets the
clock of a process and of the processes it starts: the clock reads that instant when it is
first asked and runs on from it in real time, so stamps still increase. The first reading
writes its starting moment on the machine's monotonic clock to ``MAGLUMAT_CLOCK_ANCHOR``, which
child processes inherit, so
that a whole tree of processes (the CLI, Dagster, the tests' workers) shares one clock. Empty or
unset means the system clock. It replays a past day or tests the hard hours (the Aşgabat
midnight, a month's and a year's end) without changing the machine's time.

Readings that stay on the operating system's clock on purpose, because they are compared with
something that clock stamped: a file's modification time (is an inbox file still being
written), an HTTP ``Retry-After`` date, and elapsed times measured by the benchmark.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

CLOCK_ENV = "MAGLUMAT_CLOCK"
ANCHOR_ENV = "MAGLUMAT_CLOCK_ANCHOR"  # "<MAGLUMAT_CLOCK's text>|<time.monotonic() then>"
LOCAL_TIMEZONE_NAME = "Asia/Ashgabat"
LOCAL_TIMEZONE = ZoneInfo(LOCAL_TIMEZONE_NAME)


class ClockError(ValueError):
    """``MAGLUMAT_CLOCK`` does not name an instant."""


def parse_instant(text: str, setting: str = CLOCK_ENV) -> dt.datetime:
    """An ISO 8601 instant with an explicit offset, in UTC; ``setting`` names it in errors."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(
            f"{setting}={text!r} is not an ISO 8601 instant (e.g. 2026-12-31T23:30:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise ClockError(
            f"{setting}={text!r} has no time zone: write it with its offset, "
            "e.g. 2026-12-31T23:30:00Z or 2027-01-01T04:30:00+05:00"
        )
    return moment.astimezone(dt.UTC)


def now() -> dt.datetime:
    """The current instant in UTC: ``MAGLUMAT_CLOCK`` running on from its value, or the system's."""
    fixed = os.environ.get(CLOCK_ENV, "").strip()
    if not fixed:
        return dt.datetime.now(dt.UTC)
    start = parse_instant(fixed)
    # The monotonic clock is the machine's, shared by its processes (Linux: since boot), and no
    # fake of the wall clock moves it.
    text, _, anchor = os.environ.get(ANCHOR_ENV, "").rpartition("|")
    if text != fixed:
        anchor = repr(time.monotonic())
        os.environ[ANCHOR_ENV] = f"{fixed}|{anchor}"
    return start + dt.timedelta(seconds=max(time.monotonic() - float(anchor), 0.0))


def local_date(moment: dt.datetime) -> dt.date:
    """The Aşgabat calendar date of an instant (a naive instant is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TIMEZONE).date()


def today() -> dt.date:
    """Today's date in Aşgabat."""
    return local_date(now())


def start_of_local_day(day: dt.date) -> dt.datetime:
    """The instant at which ``day`` begins in Aşgabat (aware, written in Aşgabat time)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TIMEZONE)


def end_of_local_day(day: dt.date) -> dt.datetime:
    """The instant at which ``day`` ends in Aşgabat: the start of the next day."""
    return start_of_local_day(day + dt.timedelta(days=1))
