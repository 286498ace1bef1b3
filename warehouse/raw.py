"""Load gated batches into the warehouse's raw schema, with the audit trail of every batch.

For each batch: the rows that passed go to ``raw.<system>__<table>`` (with ``_batch_id``,
``_row_number`` and ``_extracted_at``); the rows that failed go to ``audit.quarantine`` with the
rule, field and value; the batch's counts go to ``audit.batches``. All three in one transaction,
keyed by batch id, so loading a batch again gives the same warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import polars as pl

from maglumat import clock
from maglumat.contracts import BatchManifest
from quality.gate import GateVerdict, RowFailure
from quality.outliers import reads_all_history, within_reach
from quality.suites import OutlierRule, TableSuite

AUDIT_DDL = """
create schema if not exists raw;
create schema if not exists audit;
create table if not exists audit.batches (
    batch_id varchar primary key,
    system varchar not null,
    table_name varchar not null,
    mode varchar not null,
    source varchar not null,
    source_file varchar,
    landed_file varchar not null,
    sha256 varchar not null,
    extracted_at timestamptz not null,
    cursor_from varchar,
    cursor_to varchar,
    extracted_rows bigint not null,
    loaded_rows bigint not null,
    quarantined_rows bigint not null,
    held_rows bigint not null,
    status varchar not null,
    gate_summary varchar not null,
    gate_report varchar,
    checked_at timestamptz not null
);
create table if not exists audit.quarantine (
    batch_id varchar not null,
    system varchar not null,
    table_name varchar not null,
    landed_file varchar not null,
    row_number integer not null,
    rule varchar not null,
    field varchar not null,
    value varchar,
    row_json varchar not null,
    quarantined_at timestamptz not null
);
-- The failing rows of a held batch, in the quarantine's shape: nothing of it is loaded, so they
-- are not quarantined, but the steward deciding to readmit or reject it needs to see them.
create table if not exists audit.held_row_failures as select * from audit.quarantine limit 0;
"""


@dataclass(frozen=True)
class LoadOutcome:
    batch_id: str
    status: str
    extracted_rows: int
    loaded_rows: int
    quarantined_rows: int
    held_rows: int


def ensure_audit_schema(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(AUDIT_DDL)


CONTRACT_SQL_TYPES = {
    "integer": "bigint",
    "double": "double",
    "string": "varchar",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamptz",
}


def ensure_raw_table(
    connection: duckdb.DuckDBPyConnection, system: str, table: str, columns: dict[str, str]
) -> None:
    """Create the raw table from the schema contract, so that what reads it (dbt) works even
    before the first batch arrives."""
    # Names come from the catalogue, checked to be plain identifiers.
    definitions = ", ".join(
        f'"{name}" {CONTRACT_SQL_TYPES[kind]}' for name, kind in columns.items()
    )
    target = raw_table(system, table)
    connection.execute(
        f"create table if not exists {target} ({definitions},"
        " _row_number integer, _batch_id varchar, _extracted_at timestamptz)"
    )
    # A contract that gained a column (the steward accepted a source's new field) widens the
    # table; earlier batches have null there.
    present = {
        row[0]
        for row in connection.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'raw' and table_name = ?",
            [f"{system}__{table}"],
        ).fetchall()
    }
    for name, kind in columns.items():
        if name not in present:
            connection.execute(
                f'alter table {target} add column "{name}" {CONTRACT_SQL_TYPES[kind]}'
            )


def raw_table(system: str, table: str) -> str:
    return f'raw."{system}__{table}"'


def batch_ledger(
    connection: duckdb.DuckDBPyConnection, system: str, table: str
) -> dict[str, tuple[int, str]]:
    """Every decided batch of the table: batch id to (extracted rows, status)."""
    rows = connection.execute(
        "select batch_id, extracted_rows, status from audit.batches"
        " where system = ? and table_name = ?",
        [system, table],
    ).fetchall()
    return {batch_id: (extracted, status) for batch_id, extracted, status in rows}


def _outlier_columns(suite: TableSuite) -> list[str]:
    return sorted(
        {
            column
            for rule in suite.outliers
            for column in (rule.column, *rule.group_by, rule.order_by, rule.period, rule.per)
            if column
        }
    )


def outlier_history(
    connection: duckdb.DuckDBPyConnection, system: str, table: str, suite: TableSuite
) -> pl.DataFrame | None:
    """The loaded values the suite's outlier rules compare a batch with, with each row's
    ``_batch_id`` (None without rules): for rolling rules only the rows within their reach
    (:func:`quality.outliers.within_reach`, chosen here in SQL), in table order."""
    columns = _outlier_columns(suite)
    if not columns:
        return None
    # Column and table names come from the catalogue: plain identifiers.
    selected = ", ".join(f'"{column}"' for column in [*columns, "_batch_id"])
    source = raw_table(system, table)
    if reads_all_history(suite.outliers):
        return connection.execute(f"select {selected} from {source}").pl()  # noqa: S608
    reached = " union ".join(_reach_query(rule, source) for rule in suite.outliers)
    return connection.execute(
        f"select {selected} from {source}"  # noqa: S608
        f" where rowid in ({reached}) order by rowid"
    ).pl()


def _reach_query(rule: OutlierRule, source: str) -> str:
    """The row ids of a rolling rule's last ``window`` judged values per group: the SQL of
    :func:`quality.outliers.within_reach` (later rows first among equal ``order_by``)."""
    value = f'"{rule.column}"'
    if rule.per:
        value = f'case when "{rule.per}" > 0 then cast({value} as double) / "{rule.per}" end'
    judged = f"{value} is not null" + (f" and {value} > 0" if rule.method == "ratio" else "")
    groups = ", ".join(f'"{column}"' for column in rule.group_by) or "null"
    return (
        f"select rowid from {source} where {judged} qualify row_number() over"  # noqa: S608
        f' (partition by {groups} order by "{rule.order_by}" desc nulls last, rowid desc)'
        f" <= {rule.window}"
    )


def refresh_outlier_history(
    connection: duckdb.DuckDBPyConnection,
    system: str,
    table: str,
    history: pl.DataFrame,
    batch_id: str,
    suite: TableSuite,
) -> pl.DataFrame:
    """``history`` (from :func:`outlier_history`) after ``batch_id`` was loaded: the batch's
    rows as raw now holds them, then only what the rules can still reach. Reads one batch,
    unless the batch replaced rows that were within reach: then older rows may come back into
    a window, and the history is chosen again from raw."""
    kept = history.filter(pl.col("_batch_id") != batch_id)
    if kept.height < history.height and not reads_all_history(suite.outliers):
        chosen = outlier_history(connection, system, table, suite)
        return chosen if chosen is not None else kept
    selected = ", ".join(f'"{column}"' for column in history.columns)
    fresh = connection.execute(
        f"select {selected} from {raw_table(system, table)} where _batch_id = ?"  # noqa: S608
        " order by rowid",
        [batch_id],
    ).pl()
    return within_reach(pl.concat([kept, fresh]) if fresh.height else kept, suite.outliers)


def open_holds(connection: duckdb.DuckDBPyConnection, system: str, table: str) -> list[str]:
    rows = connection.execute(
        "select batch_id from audit.batches where system = ? and table_name = ? and status = 'held'"
        " order by batch_id",
        [system, table],
    ).fetchall()
    return [row[0] for row in rows]


def _quarantine_rows(
    manifest: BatchManifest,
    landed: pl.DataFrame,
    failures: list[RowFailure],
    offset: int,
    now: dt.datetime,
) -> pl.DataFrame:
    """The rows of ``audit.quarantine`` for ``failures`` of a batch's rows in ``landed`` (the
    slice after ``offset`` rows), in its column order: one per failure."""
    numbers = sorted({failure.row_number for failure in failures})
    # Only the failing rows become Python objects, for their JSON.
    records = dict(zip(numbers, landed[[n - offset - 1 for n in numbers]].to_dicts(), strict=True))
    row_json = {
        number: json.dumps(record, default=str, ensure_ascii=False)
        for number, record in records.items()
    }
    count = len(failures)
    return pl.DataFrame(
        {
            "batch_id": [manifest.batch_id] * count,
            "system": [manifest.system] * count,
            "table_name": [manifest.table] * count,
            "landed_file": [manifest.file] * count,
            "row_number": [failure.row_number for failure in failures],
            "rule": [failure.rule for failure in failures],
            "field": [failure.field for failure in failures],
            "value": [failure.value for failure in failures],
            "row_json": [row_json[failure.row_number] for failure in failures],
            "quarantined_at": [now] * count,
        },
        schema={
            "batch_id": pl.String,
            "system": pl.String,
            "table_name": pl.String,
            "landed_file": pl.String,
            "row_number": pl.Int32,
            "rule": pl.String,
            "field": pl.String,
            "value": pl.String,
            "row_json": pl.String,
            "quarantined_at": pl.Datetime("us", "UTC"),
        },
    )


def load_batch(
    connection: duckdb.DuckDBPyConnection,
    manifest: BatchManifest,
    landed: pl.DataFrame,
    typed: pl.DataFrame,
    verdict: GateVerdict,
    gate_report: str | None = None,
    replaces: bool = True,
) -> LoadOutcome:
    """Record the verdict for one batch and load what passed, in one transaction.

    ``replaces=False`` says the ledger has no verdict for the batch yet (so neither raw nor the
    quarantine holds rows of it, as all three are written together): nothing to delete first.
    """
    return load_batch_slices(
        connection, manifest, [(0, landed, typed)], verdict, gate_report, replaces
    )


def load_batch_slices(
    connection: duckdb.DuckDBPyConnection,
    manifest: BatchManifest,
    slices: Iterable[tuple[int, pl.DataFrame, pl.DataFrame]],
    verdict: GateVerdict,
    gate_report: str | None = None,
    replaces: bool = True,
) -> LoadOutcome:
    """``load_batch`` for a batch given a slice at a time: (rows before the slice, landed rows,
    the same converted to the contract). One transaction still: all of it or none."""
    # Identifiers come from the catalogue, where they are checked to be plain lowercase names.
    table = raw_table(manifest.system, manifest.table)
    quarantined = verdict.quarantined_rows
    extracted_at = dt.datetime.fromisoformat(manifest.extracted_at)
    now = clock.now()
    held = verdict.is_held
    loaded_rows = 0
    connection.execute("begin transaction")
    try:
        first = True
        for offset, landed, typed in slices:
            positions = pl.int_range(offset + 1, offset + typed.height + 1, eager=True)
            passing = typed.with_columns(
                positions.cast(pl.Int32).alias("_row_number"),
                pl.lit(manifest.batch_id).alias("_batch_id"),
                pl.lit(extracted_at).cast(pl.Datetime("us", "UTC")).alias("_extracted_at"),
            ).filter(~pl.col("_row_number").is_in(sorted(quarantined)))
            # Scanned by its name, not registered: a registered table stays alive until the
            # transaction ends, so a batch loaded in slices would be held whole in memory.
            passing_rows = passing.to_arrow()
            if first:
                connection.execute(
                    f"create table if not exists {table} as select * from passing_rows limit 0"  # noqa: S608
                )
                if replaces:
                    _forget(connection, table, manifest.batch_id)
                first = False
            if not held:
                connection.execute(f"insert into {table} by name select * from passing_rows")  # noqa: S608
                loaded_rows += passing.height
            del passing_rows, passing
            failures = [
                failure
                for failure in verdict.row_failures
                if offset < failure.row_number <= offset + landed.height
            ]
            if failures:
                connection.register(
                    "quarantine_rows",
                    _quarantine_rows(manifest, landed, failures, offset, now).to_arrow(),
                )
                target = "audit.held_row_failures" if held else "audit.quarantine"
                connection.execute(f"insert into {target} select * from quarantine_rows")  # noqa: S608
                connection.unregister("quarantine_rows")
        if first and replaces:
            _forget(connection, table, manifest.batch_id)
        outcome = LoadOutcome(
            batch_id=manifest.batch_id,
            status=verdict.status,
            extracted_rows=manifest.row_count,
            loaded_rows=loaded_rows,
            quarantined_rows=0 if held else len(quarantined),
            held_rows=manifest.row_count if held else 0,
        )
        connection.execute(
            f"insert into audit.batches values ({', '.join(['?'] * 19)})",  # noqa: S608
            [
                manifest.batch_id,
                manifest.system,
                manifest.table,
                manifest.mode,
                manifest.source,
                manifest.source_file,
                manifest.file,
                manifest.sha256,
                extracted_at,
                manifest.cursor_from,
                manifest.cursor_to,
                outcome.extracted_rows,
                outcome.loaded_rows,
                outcome.quarantined_rows,
                outcome.held_rows,
                outcome.status,
                verdict.summary(),
                gate_report,
                now,
            ],
        )
        connection.execute("commit")
    except Exception:
        connection.execute("rollback")
        raise
    return outcome


def _forget(connection: duckdb.DuckDBPyConnection, table: str, batch_id: str) -> None:
    """Remove an earlier verdict's rows of the batch (a readmission decides it again)."""
    connection.execute("delete from audit.batches where batch_id = ?", [batch_id])
    connection.execute("delete from audit.quarantine where batch_id = ?", [batch_id])
    connection.execute(f"delete from {table} where _batch_id = ?", [batch_id])  # noqa: S608
    connection.execute("delete from audit.held_row_failures where batch_id = ?", [batch_id])
