"""Transport indicators, recomputed from the statistics API's records as it served them at the
run's instant (``simulator.transport.visible_at``: each record's latest revision). Operators
are placed in the province of their head office.

* ``tr_freight_plan_fulfilment_pct`` (ratio): for the months an operator reported, its
  tonne-km over its plan for those months (the plan's latest revision served), x 100.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import polars as pl

from simulator import transport
from tests.oracle.engine import base_frame, rollup


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    visible = transport.visible_at(transport.generate(seed), as_of)
    operators = {o.operator_code: o for o in visible.operators}
    actual: dict[tuple[str, str], float] = defaultdict(float)
    for record in visible.traffic:
        actual[(record.operator_code, record.period)] += record.freight_tonne_km
    plans = {(p.operator_code, p.period): p.freight_tonne_km_plan for p in visible.plans}
    rows = [
        {
            "date": dt.date.fromisoformat(f"{period}-01"),
            "province": operators[code].province_code,
            "enterprise": f"transport_statistics_api:{code}",
            "num": tonne_km,
            "den": plans.get((code, period)),
        }
        for (code, period), tonne_km in actual.items()
    ]
    return {
        "tr_freight_plan_fulfilment_pct": rollup(
            base_frame(rows),
            indicator_id="tr_freight_plan_fulfilment_pct",
            period_types=("month", "quarter", "year", "ytd"),
            aggregation="ratio",
            factor=100.0,
            enterprise_rows=True,
        )
    }
