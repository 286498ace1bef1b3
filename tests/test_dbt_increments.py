"""The batches a dbt build brings to its incremental models, read from the batch ledger: what is
an increment (a new batch, a held batch readmitted) and what makes the build refresh in full (a
batch with rows decided again, in a table an incremental model reads; no ledger copy to
compare with). On a real DuckDB file with the real audit schema."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines.dbt_increments import BuildIncrement, prepare_increment
from warehouse.raw import ensure_audit_schema

FUEL = ("fuel_energy_production", "daily_production")
CAMPAIGN = ("agriculture_campaign", "daily_reports")  # no incremental model reads it
WATCHED = {FUEL}
DECIDED = dt.datetime(2023, 9, 10, 6, tzinfo=dt.UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_audit_schema(connection)
    return connection


def _decide(
    connection: duckdb.DuckDBPyConnection,
    batch_id: str,
    status: str,
    loaded_rows: int,
    *,
    hours: int = 0,
    table: tuple[str, str] = FUEL,
) -> None:
    """Write (or replace) a batch's verdict in audit.batches, as the gate would."""
    connection.execute("delete from audit.batches where batch_id = ?", [batch_id])
    connection.execute(
        "insert into audit.batches (batch_id, system, table_name, mode, source, landed_file,"
        " sha256, extracted_at, extracted_rows, loaded_rows, quarantined_rows, held_rows,"
        " status, gate_summary, checked_at)"
        " values (?, ?, ?, 'file', 'inbox', 'landed.parquet', 'x', ?, 32, ?, ?, ?, ?, '', ?)",
        [
            batch_id,
            *table,
            DECIDED,
            loaded_rows,
            32 - loaded_rows if status != "held" else 0,
            32 if status == "held" else 0,
            status,
            DECIDED + dt.timedelta(hours=hours),
        ],
    )


def _build(connection: duckdb.DuckDBPyConnection, number: int, base: int | None) -> BuildIncrement:
    return prepare_increment(
        connection,
        number,
        base_build=base,
        full_reason=None if base is not None else "no earlier build",
        watched=WATCHED,
    )


def _increments(connection: duckdb.DuckDBPyConnection) -> list[str]:
    rows = connection.execute(
        "select batch_id from audit.dbt_build_increments order by batch_id"
    ).fetchall()
    return [batch for (batch,) in rows]


def test_new_and_readmitted_held_batches_are_increments(
    ledger: duckdb.DuckDBPyConnection,
) -> None:
    _decide(ledger, "a", "loaded", 32)
    assert _build(ledger, 1, None).full_refresh_reason == "no earlier build"
    assert _increments(ledger) == []

    _decide(ledger, "b", "loaded_with_quarantine", 31, hours=24)
    _decide(ledger, "h", "held", 0, hours=24)
    second = _build(ledger, 2, 1)

    assert not second.is_full_refresh
    assert _increments(ledger) == ["b"]  # the held batch has no rows yet
    assert second.describe() == (
        "incremental models: 1 new batch (fuel_energy_production.daily_production)"
    )

    _decide(ledger, "h", "loaded", 32, hours=30)  # the steward readmits the held batch
    third = _build(ledger, 3, 2)

    assert not third.is_full_refresh
    assert _increments(ledger) == ["h"]


def test_a_batch_with_rows_decided_again_refreshes_in_full(
    ledger: duckdb.DuckDBPyConnection,
) -> None:
    _decide(ledger, "a", "loaded", 32)
    _decide(ledger, "x", "loaded", 32, table=CAMPAIGN)
    _build(ledger, 1, None)

    # A readmit in a table no incremental model reads changes nothing for them.
    _decide(ledger, "x", "loaded_with_quarantine", 30, hours=5, table=CAMPAIGN)
    assert not _build(ledger, 2, 1).is_full_refresh

    _decide(ledger, "a", "loaded_with_quarantine", 30, hours=6)  # rows left raw
    third = _build(ledger, 3, 2)

    assert third.full_refresh_reason == "batch a was decided again since the last build"
    assert _increments(ledger) == []
    assert third.describe() == (
        "incremental models in full: batch a was decided again since the last build"
    )


def test_without_a_copy_of_the_base_builds_ledger_the_build_is_full(
    ledger: duckdb.DuckDBPyConnection,
) -> None:
    _decide(ledger, "a", "loaded", 32)
    # A warehouse from before the ledger copies: its last build kept none.
    assert _build(ledger, 7, 6).full_refresh_reason == ("build 6 kept no copy of the batch ledger")


def test_only_the_base_and_the_latest_copies_are_kept(ledger: duckdb.DuckDBPyConnection) -> None:
    _decide(ledger, "a", "loaded", 32)
    _build(ledger, 1, None)
    _build(ledger, 2, 1)
    _build(ledger, 3, 2)
    _build(ledger, 4, None)  # a full build: nothing before it is a base any more

    kept = ledger.execute(
        "select distinct build_number from audit.dbt_build_ledger order by 1"
    ).fetchall()
    assert kept == [(4,)]
