"""Livestock indicators, recomputed from the census database's production reports as it held
them at the run's instant (``simulator.livestock``): the highest revision of each district,
month and product entered by then.

* ``liv_meat_output_tonnes`` (sum): meat tonnes by district month; month, quarter, year, ytd.
* ``liv_milk_output_yoy_pct`` (yoy_growth): milk tonnes of the period over the same period a
  year before, the earlier period cut at the last month with data in this period.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from simulator import livestock
from tests.oracle.engine import base_frame, rollup, yoy_growth

PERIODS = ("month", "quarter", "year", "ytd")


def _production(seed: int, as_of: dt.datetime, product: str) -> pl.DataFrame:
    visible = livestock.visible_at(livestock.generate(seed), as_of)
    latest: dict[tuple[str, str], livestock.ProductionReport] = {}
    for report in sorted(visible.production_reports, key=lambda r: (r.revision, r.submitted_at)):
        if report.product_code == product:
            latest[(report.district_code, report.report_month)] = report
    return base_frame(
        [
            {
                "date": dt.date.fromisoformat(month),
                "province": district[:4],
                "district": district,
                "num": report.quantity,
            }
            for (district, month), report in latest.items()
        ]
    )


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    return {
        "liv_meat_output_tonnes": rollup(
            _production(seed, as_of, "MEAT"),
            indicator_id="liv_meat_output_tonnes",
            period_types=PERIODS,
            aggregation="sum",
            factor=1.0,
        ),
        "liv_milk_output_yoy_pct": yoy_growth(
            _production(seed, as_of, "MILK"),
            indicator_id="liv_milk_output_yoy_pct",
            period_types=PERIODS,
            factor=100.0,
        ),
    }
