"""The daily volume rule judges a day against the rows by day already loaded. Within a run the
gate keeps that count in memory and, after a batch that replaces nothing, counts again only the
days the batch brought: the count must stay what a fresh count of raw gives, through new days,
rows added to a loaded day, and repeated keys."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from maglumat.catalogue import system_named
from pipelines.ingest import _loaded_days, _recount_days
from quality.suites import load_suite
from warehouse.raw import ensure_raw_table, raw_table

SYSTEM = system_named("fuel_energy_production")
TABLE = SYSTEM.table("daily_production")
SUITE = load_suite(SYSTEM, TABLE.name)
FIRST = dt.date(2023, 9, 1)


def _rows(days: list[int], enterprises: list[str]) -> pl.DataFrame:
    rows = [
        {
            "report_date": FIRST + dt.timedelta(days=day),
            "enterprise_code": enterprise,
            "product_code": "GAZ",
        }
        for day in days
        for enterprise in enterprises
    ]
    return pl.DataFrame(rows)


def test_counting_again_only_the_batch_days_gives_a_fresh_count(tmp_path: Path) -> None:
    assert SUITE.daily_volume is not None
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    connection.execute("create schema raw")
    ensure_raw_table(connection, SYSTEM.name, TABLE.name, SUITE.columns)
    batches = [
        ("b01", _rows([0, 1, 2], ["A", "B", "C"])),
        ("b02", _rows([3], ["A", "B"])),
        ("b03", _rows([3], ["C", "D"])),  # more rows for a day loaded
        ("b04", _rows([1, 4], ["A", "E"])),  # a key already there and a new one, a new day
        ("b05", _rows([5], ["A"]).with_columns(pl.lit(None, pl.Date).alias("report_date"))),
    ]
    days = _loaded_days(connection, SYSTEM.name, TABLE, SUITE)
    assert days == {}
    for batch_id, rows in batches:
        loaded = rows.with_columns(pl.lit(batch_id).alias("_batch_id"))
        connection.register("loaded_batch", loaded)
        connection.execute(
            f"insert into {raw_table(SYSTEM.name, TABLE.name)} by name select * from loaded_batch"
        )
        connection.unregister("loaded_batch")
        days = _recount_days(connection, SYSTEM.name, TABLE, SUITE, days, batch_id)
        assert days == _loaded_days(connection, SYSTEM.name, TABLE, SUITE), batch_id
    assert days[FIRST + dt.timedelta(days=3)] == 4
    assert days[FIRST + dt.timedelta(days=1)] == 4
