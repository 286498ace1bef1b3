"""Telecom indicators, recomputed from the statistics API's records as it served them at the
run's instant (``simulator.telecom.visible_at``: each record's latest revision).

* ``tel_subscribers_thousand`` (sum, last): subscribers at the end of the last month with data
  in the period, x 0.001, by service; regions and each operator's branch in a province.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from simulator import telecom
from tests.oracle.engine import base_frame, rollup


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    visible = telecom.visible_at(telecom.generate(seed), as_of)
    rows = [
        {
            "date": dt.date.fromisoformat(f"{count.period}-01"),
            "province": count.province_code,
            "enterprise": f"telecom_statistics_api:{count.operator_code}",
            "breakdown": count.service,
            "num": float(count.subscribers),
        }
        for count in visible.subscribers
    ]
    return {
        "tel_subscribers_thousand": rollup(
            base_frame(rows),
            indicator_id="tel_subscribers_thousand",
            period_types=("month", "quarter", "year"),
            aggregation="sum",
            factor=0.001,
            time_aggregation="last",
            enterprise_rows=True,
        )
    }
