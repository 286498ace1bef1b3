"""Chemical industry indicators, recomputed from the concern's monthly forms in the inbox
(``simulator.chemical``): the lines of the forms delivered by the run's instant, a corrected
form (later compilation date) replacing the lines of its month. Plants are placed in their
district, or their province when the register gives none.

* ``chem_output_per_enterprise_kt`` (per_entity): actual tonnes x 0.001 over the number of
  plants with a line in the period.
* ``chem_enterprises_below_plan_pct`` (share_below_plan): among plants whose plan summed over
  the period is positive, the share whose actual summed over the period is below it.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from simulator import chemical
from tests.oracle.engine import base_frame, rollup

PERIODS = ("month", "quarter", "year", "ytd")


def _lines(seed: int, as_of: dt.datetime) -> pl.DataFrame:
    system = chemical.generate(seed)
    delivered = system.delivered(as_of)
    plants = {plant.enterprise_code: plant for plant in system.plants}
    newest: dict[dt.date, dt.date] = {}
    for line in system.lines:
        if line.file_name in delivered:
            newest[line.report_month] = max(
                newest.get(line.report_month, line.compiled_on), line.compiled_on
            )
    rows = []
    for line in system.lines:
        if line.file_name not in delivered or line.compiled_on != newest[line.report_month]:
            continue
        plant = plants[line.enterprise_code]
        rows.append(
            {
                "date": line.report_month,
                "province": plant.province_code,
                "district": plant.district_code,
                "entity": line.enterprise_code,
                "num": line.actual_tonnes,
                "den": line.plan_tonnes,
            }
        )
    return base_frame(rows)


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    lines = _lines(seed, as_of)
    return {
        "chem_output_per_enterprise_kt": rollup(
            lines,
            indicator_id="chem_output_per_enterprise_kt",
            period_types=PERIODS,
            aggregation="per_entity",
            factor=0.001,
        ),
        "chem_enterprises_below_plan_pct": rollup(
            lines,
            indicator_id="chem_enterprises_below_plan_pct",
            period_types=PERIODS,
            aggregation="share_below_plan",
            factor=100.0,
        ),
    }
