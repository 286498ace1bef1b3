"""Fuel and energy indicators, recomputed from the dispatch centre's files in the inbox
(``simulator.fuel_energy``): the records of the files delivered by the run's instant, the
latest transmission of each day, enterprise and product winning. Enterprises are placed in
their district, or their province when the register gives none.

* ``fe_power_daily_output_gwh`` (sum): electricity MWh x 0.001 by day, ISO week and month, for
  the regions and for each power station.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from simulator import fuel_energy
from tests.oracle.engine import base_frame, rollup


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    system = fuel_energy.generate(seed)
    delivered = {f.name for f in system.files if f.arrives_at <= as_of}
    enterprises = {e.enterprise_code: e for e in system.enterprises}
    latest: dict[tuple[dt.date, str], fuel_energy.DailyRecord] = {}
    for record in sorted(system.daily, key=lambda r: r.transmitted_at):
        if record.file_name in delivered and record.product_code == fuel_energy.POWER:
            latest[(record.report_date, record.enterprise_code)] = record
    base = base_frame(
        [
            {
                "date": day,
                "province": enterprises[code].province_code,
                "district": enterprises[code].district_code,
                "enterprise": f"fuel_energy_production:{code}",
                "num": record.quantity,
            }
            for (day, code), record in latest.items()
        ]
    )
    return {
        "fe_power_daily_output_gwh": rollup(
            base,
            indicator_id="fe_power_daily_output_gwh",
            period_types=("day", "week", "month"),
            aggregation="sum",
            factor=0.001,
            enterprise_rows=True,
        )
    }
