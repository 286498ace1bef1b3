"""Textile indicators, recomputed from the ministry's mill output files in the inbox
(``simulator.textile``): the rows of the files delivered by the run's instant, a later
submission of the same mill, product and month replacing the earlier. Mills are placed in
their district, or their province when the register gives none.

* ``tex_export_value_mln_tmt`` (sum): export value (thousand manats) x 0.001 of the mill-months
  reported.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from simulator import textile
from tests.oracle.engine import base_frame, rollup


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    system = textile.generate(seed)
    delivered = {f.name for f in system.files if f.arrives_at <= as_of}
    mills = {m.mill_code: m for m in system.mills}
    latest: dict[tuple[str, str, str], textile.MillOutput] = {}
    for name, rows in system.output_files.items():
        if name not in delivered:
            continue
        for row in rows:
            key = (row.report_month, row.mill_code, row.product_code)
            if key not in latest or latest[key].submitted_at <= row.submitted_at:
                latest[key] = row
    base = base_frame(
        [
            {
                "date": dt.date.fromisoformat(f"{row.report_month}-01"),
                "province": mills[row.mill_code].province_code,
                "district": mills[row.mill_code].district_code,
                "enterprise": f"textile_mill_output:{row.mill_code}",
                "num": row.export_value_tmt,
            }
            for row in latest.values()
        ]
    )
    return {
        "tex_export_value_mln_tmt": rollup(
            base,
            indicator_id="tex_export_value_mln_tmt",
            period_types=("month", "quarter", "year", "ytd"),
            aggregation="sum",
            factor=0.001,
            enterprise_rows=True,
        )
    }
