"""Processing industry indicators, recomputed from the output register as it held it at the
run's instant (``simulator.processing``): daily entries, a correction replacing the entry it
points at; plants placed in their district.

* ``proc_output_per_province_kt`` (per_entity): output tonnes x 0.001 over the number of
  provinces with output in the period.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from simulator import processing
from tests.oracle.engine import base_frame, rollup


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    visible = processing.visible_at(processing.generate(seed), as_of)
    plants = {plant.plant_code: plant for plant in visible.plants}
    replaced = {r.corrects_record_id for r in visible.daily_output if r.corrects_record_id}
    rows = []
    for record in visible.daily_output:
        if record.record_id in replaced:
            continue
        district = plants[record.plant_code].district_code
        rows.append(
            {
                "date": dt.date.fromisoformat(record.output_date).replace(day=1),
                "province": district[:4],
                "district": district,
                "entity": district[:4],
                "num": record.quantity_tonnes,
            }
        )
    return {
        "proc_output_per_province_kt": rollup(
            base_frame(rows),
            indicator_id="proc_output_per_province_kt",
            period_types=("month", "quarter", "year", "ytd"),
            aggregation="per_entity",
            factor=0.001,
        )
    }
