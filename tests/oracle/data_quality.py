"""Reporting-discipline indicators for the chemical concern's monthly form, recomputed from the
forms in the inbox (``simulator.chemical``) and the delivery schedule
(``seeds/reference/generated/ref_delivery_schedules.csv``: due on the 8th of the next month at
18:00 in Aşgabat, 24 grace hours).

A month is delivered when a form for it arrived by the run's instant; it is delivered on time
when its first form's compilation date (midnight in Aşgabat) is at or before the deadline plus
the grace hours. Months are due from the first delivered one through the last whose deadline
has passed by the run's instant. The indicator's other systems report through the month before
the run's, so the year-to-date rows run through that month.

* ``dq_reporting_completeness_pct`` (ratio): months delivered over months due, x 100.
* ``dq_reporting_timeliness_pct`` (ratio): months delivered on time over months delivered,
  x 100.

Daily systems (``daily_timeliness``), for the processing register and the campaign database:
the deadline of a day is the next day at the system's ``expected_by`` hour in Aşgabat (UTC+5)
plus its ``grace_hours`` (``pipelines/<sector>/sources.yml``). Each reporting unit (a plant; a
district) is judged on its own for each day it reported: the unit's earliest record for the
day, by the system's own stamp (``entered_at``; ``submitted_at``), is on time when the stamp is
at or before the deadline. Only days whose deadline had passed by "now", the latest stamp any
system had written by the run's instant, are judged; for the campaign database only days inside
a campaign's window (its earliest province start through its latest planned end). Numerator:
units on time; denominator: units that reported; by the month, quarter, year and year to date
of the day; country only, split by system.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from pathlib import Path

import polars as pl
import yaml

from simulator import agriculture, chemical, construction, edocument, livestock, processing
from simulator.processing import ASHGABAT
from tests.oracle.engine import base_frame, rollup

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"
DAILY_SYSTEMS = {"processing_output": "processing", "agriculture_campaign": "agriculture"}

SYSTEMS = ["chemical_monthly_form"]
PERIODS = ("month", "quarter", "year", "ytd")


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    system = chemical.generate(seed)
    delivered = system.delivered(as_of)
    first_form: dict[dt.date, dt.date] = {}
    for line in system.lines:
        if line.file_name in delivered:
            month = line.report_month
            first_form[month] = min(first_form.get(month, line.compiled_on), line.compiled_on)
    completeness, timeliness = [], []
    for month in chemical.months(min(first_form), chemical.LAST_MONTH):
        following = (month + dt.timedelta(days=32)).replace(day=1)
        deadline = dt.datetime.combine(following.replace(day=8), dt.time(18), tzinfo=ASHGABAT)
        if deadline > as_of:
            continue
        got = month in first_form
        base = {"date": month, "province": None, "breakdown": SYSTEMS[0], "den": 1.0}
        completeness.append({**base, "num": float(got)})
        if got:
            arrived = dt.datetime.combine(first_form[month], dt.time(0), tzinfo=ASHGABAT)
            on_time = arrived <= deadline + dt.timedelta(hours=24)
            timeliness.append({**base, "num": float(on_time)})
    frames = {}
    for indicator_id, rows in (
        ("dq_reporting_completeness_pct", completeness),
        ("dq_reporting_timeliness_pct", timeliness),
    ):
        frames[indicator_id] = _country_ratio(rows, indicator_id, as_of)
    return frames


@functools.cache
def delivery(system_name: str, sector: str) -> dict[str, object]:
    """The ``delivery`` block of a system in its sector's ``sources.yml``."""
    catalogue = yaml.safe_load((PIPELINES / sector / "sources.yml").read_text(encoding="utf-8"))
    entry = next(s for s in catalogue["systems"] if s["name"] == system_name)
    return dict(entry["delivery"])


def daily_deadline(day: dt.date, system_name: str, sector: str) -> dt.datetime:
    """When the report of ``day`` is late: the next day at ``expected_by`` in Aşgabat plus grace."""
    schedule = delivery(system_name, sector)
    assert schedule["every"] == "day", schedule
    assert schedule["timezone"] == "Asia/Ashgabat", schedule
    hour, minute = (int(part) for part in str(schedule["expected_by"]).split(":"))
    due = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(hour, minute), tzinfo=ASHGABAT)
    return due + dt.timedelta(hours=float(str(schedule["grace_hours"])))


def _utc(text: str) -> dt.datetime:
    """A stamp as the SQL systems store it (UTC, no offset) or with its own offset."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@functools.cache
def latest_stamp(seed: int, as_of: dt.datetime) -> dt.datetime:
    """ "Now": the latest submission stamp written by the run's instant in the systems that stamp
    their records to the second (campaign reports, processing entries, e-document log lines,
    construction progress reports, livestock reports)."""
    stamps: list[Iterable[str]] = [
        (
            r.submitted_at
            for r in agriculture.visible_at(agriculture.generate(seed), as_of).daily_reports
        ),
        (
            r.entered_at
            for r in processing.visible_at(processing.generate(seed), as_of).daily_output
        ),
        (
            line.event.logged_at
            for line in edocument.visible_lines(edocument.generate(seed), as_of)
            if line.event is not None
        ),
        (
            r.submitted_at
            for r in construction.visible_at(construction.generate(seed), as_of).progress_reports
        ),
        (
            r.submitted_at
            for r in livestock.visible_at(livestock.generate(seed), as_of).herd_reports
        ),
    ]
    return max(_utc(stamp) for group in stamps for stamp in group)


def _first_stamps(
    seed: int, as_of: dt.datetime, system_name: str
) -> dict[tuple[str, dt.date], str]:
    """Each unit's earliest stamp for each day it reported."""
    records: list[tuple[str, str, str]] = []  # unit, day, stamp
    if system_name == "processing_output":
        visible = processing.visible_at(processing.generate(seed), as_of)
        records = [(r.plant_code, r.output_date, r.entered_at) for r in visible.daily_output]
    else:
        campaign_db = agriculture.visible_at(agriculture.generate(seed), as_of)
        records = [
            (r.district_code, r.report_date, r.submitted_at) for r in campaign_db.daily_reports
        ]
    first: dict[tuple[str, dt.date], str] = {}
    for unit, day, stamp in records:
        key = (unit, dt.date.fromisoformat(day[:10]))
        if key not in first or _utc(stamp) < _utc(first[key]):
            first[key] = stamp
    return first


def _in_campaign(day: dt.date) -> bool:
    return any(
        min(c.starts.values()) <= day <= max(c.planned_end.values())
        for c in agriculture.campaigns()
    )


def daily_timeliness(seed: int, as_of: dt.datetime, system_name: str) -> pl.DataFrame:
    """Expected rows of ``dq_reporting_timeliness_pct`` for one daily system."""
    sector = DAILY_SYSTEMS[system_name]
    now = latest_stamp(seed, as_of)
    rows = []
    for (_, day), stamp in _first_stamps(seed, as_of, system_name).items():
        deadline = daily_deadline(day, system_name, sector)
        if deadline > now:
            continue
        if system_name == "agriculture_campaign" and not _in_campaign(day):
            continue
        on_time = _utc(stamp) <= deadline
        rows.append(
            {
                "date": day,
                "province": None,
                "breakdown": system_name,
                "num": float(on_time),
                "den": 1.0,
            }
        )
    return _country_ratio(rows, "dq_reporting_timeliness_pct", as_of)


def _country_ratio(
    rows: list[dict[str, object]], indicator_id: str, as_of: dt.datetime
) -> pl.DataFrame:
    """A per cent ratio of the rows at the country level; the year to date runs through the
    month before the run's."""
    return rollup(
        base_frame(rows),
        indicator_id=indicator_id,
        period_types=PERIODS,
        aggregation="ratio",
        factor=100.0,
        ytd_through=(
            as_of.astimezone(ASHGABAT).date().replace(day=1) - dt.timedelta(days=1)
        ).replace(day=1),
    ).filter(pl.col("region_level") == "country")
