"""Reporting-discipline indicators for the chemical concern's monthly form, recomputed from the
forms in the inbox (``simulator.chemical``) and the delivery schedule
(``seeds/reference/ref_delivery_schedules.csv``: due on the 8th of the next month at 18:00 in
Aşgabat, 24 grace hours).

A month is delivered when a form for it arrived by the run's instant; it is delivered on time
when its first form's compilation date (midnight in Aşgabat) is at or before the deadline plus
the grace hours. Months are due from the first delivered one through the last whose deadline
has passed by the run's instant. The indicator's other systems report through the month before
the run's, so the year-to-date rows run through that month.

* ``dq_reporting_completeness_pct`` (ratio): months delivered over months due, x 100.
* ``dq_reporting_timeliness_pct`` (ratio): months delivered on time over months delivered,
  x 100.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from simulator import chemical
from simulator.processing import ASHGABAT
from tests.oracle.engine import base_frame, rollup

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
        frames[indicator_id] = rollup(
            base_frame(rows),
            indicator_id=indicator_id,
            period_types=PERIODS,
            aggregation="ratio",
            factor=100.0,
            ytd_through=(
                as_of.astimezone(ASHGABAT).date().replace(day=1) - dt.timedelta(days=1)
            ).replace(day=1),
        ).filter(pl.col("region_level") == "country")
    return frames
