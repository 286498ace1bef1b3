"""The two steps every source table goes through: extract to landing, then gate and load.

Both are plain functions so that Dagster assets, the command line and tests share them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from maglumat import clock
from maglumat.catalogue import SourceSystem, SourceTable, load_catalogue
from maglumat.settings import MaglumatPaths
from pipelines.extract import ExtractRequest, extractor_for
from pipelines.extract.dbapi import redact
from pipelines.landing import (
    BatchManifest,
    Rejection,
    find_batch,
    land_batch,
    list_batches,
    read_batch,
    read_batch_slices,
    record_rejection,
    rejections,
)
from pipelines.landing import high_water_mark as landed_high_water_mark
from quality.contract import cast_to_contract
from quality.gate import GATE_SLICE_ROWS, PendingBatches, validate_batch, validate_batch_in_slices
from quality.report import write_gate_report
from quality.suites import TableSuite, load_suite
from warehouse.duck import write_connection
from warehouse.raw import (
    LoadOutcome,
    batch_ledger,
    ensure_audit_schema,
    ensure_raw_table,
    load_batch_slices,
    open_holds,
    outlier_history,
    raw_table,
    refresh_outlier_history,
)

if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class ExtractOutcome:
    manifests: list[BatchManifest]  # empty: nothing new at the source
    reason: str


def extract_to_landing(
    paths: MaglumatPaths, system: SourceSystem, table: SourceTable
) -> ExtractOutcome:
    """Read what is new at the source and land it, one immutable batch per extract."""
    extractor = extractor_for(system.kind)
    connection = system.connection(paths)
    mark = landed_high_water_mark(paths.landing, system.name, table.name)
    request = ExtractRequest(system, table, connection, mark, paths)
    manifests: list[BatchManifest] = []
    reasons: list[str] = []
    for extracted in extractor(request):
        if extracted.row_count == 0 and table.mode != "full" and extracted.source_file is None:
            reasons.append(f"no rows past {table.cursor} = {mark}")
            continue
        if table.mode == "full" and extracted.frame is not None:
            previous = list_batches(paths.landing, system.name, table.name)
            if previous and read_batch(paths.landing, previous[-1]).equals(extracted.frame):
                reasons.append(f"unchanged since batch {previous[-1].batch_id}")
                continue
        manifest = land_batch(
            paths.landing,
            system=system.name,
            table=table.name,
            mode=table.mode,
            frame=extracted.frame,
            staged=None if extracted.staged is None else extracted.staged.path,
            source=redact(connection),
            cursor_column=table.cursor,
            cursor_from=extracted.cursor_from,
            cursor_to=extracted.cursor_to,
            source_file=extracted.source_file,
            extracted_at=clock.now(),
        )
        if extracted.on_landed is not None:
            extracted.on_landed(manifest)
        manifests.append(manifest)
        origin = f" from {extracted.source_file}" if extracted.source_file else ""
        reasons.append(f"{manifest.row_count} rows landed{origin}")
    return ExtractOutcome(manifests, "; ".join(reasons) or "nothing new")


@dataclass(frozen=True)
class GateOutcome:
    loads: list[LoadOutcome]
    open_holds: list[str]
    # The first failing rows of the run's batches, as the steward reads them: (file or batch,
    # row, field, value, rule); and the validation page of each batch decided.
    findings: list[tuple[str, int, str, str | None, str]] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)


FINDINGS_SHOWN = 10


# Batches gated together hold at most about this many rows in memory (one larger batch goes
# alone): enough to share GX's per-validation cost among many small files, little enough that
# a big table's monthly batches are not all converted to pandas at once.
GATE_GROUP_ROWS = 500_000


def _gate_groups(manifests: list[BatchManifest]) -> list[list[BatchManifest]]:
    """Batches gated together, in order; a batch read in slices is a group of its own."""
    groups: list[list[BatchManifest]] = []
    rows = 0
    for manifest in manifests:
        if (
            not groups
            or rows + manifest.row_count > GATE_GROUP_ROWS
            or max(rows, manifest.row_count) > GATE_SLICE_ROWS
        ):
            groups.append([])
            rows = 0
        groups[-1].append(manifest)
        rows += manifest.row_count
    return groups


def gate_and_load(
    paths: MaglumatPaths,
    system: SourceSystem,
    table: SourceTable,
    only: set[str] | None = None,
    now: dt.datetime | None = None,
) -> GateOutcome:
    """Validate every landed batch not yet decided (or those in ``only``) and load what passes.

    Batches are decided one after another, oldest first, each against the ledger and the
    loaded rows as the batches before it left them; the ledger and the outlier history are read
    once and kept up to date in memory rather than queried again for every batch. ``now`` is
    the instant the suite's ``today``/``now`` bounds stand for (default: the clock's).
    """
    suite = load_suite(system, table.name, now=now)
    loads: list[LoadOutcome] = []
    findings: list[tuple[str, int, str, str | None, str]] = []
    pages: list[str] = []
    with write_connection(paths.warehouse) as connection:
        ensure_audit_schema(connection)
        ensure_raw_table(connection, system.name, table.name, suite.columns)
        if suite.registers:
            suite = suite.with_registers(register_codes(connection, system.name, suite.registers))
        ledger = batch_ledger(connection, system.name, table.name)
        wanted = [
            manifest
            for manifest in list_batches(paths.landing, system.name, table.name)
            if (manifest.batch_id in only if only is not None else manifest.batch_id not in ledger)
        ]
        loaded = outlier_history(connection, system.name, table.name, suite) if wanted else None
        days = _loaded_days(connection, system.name, table, suite) if wanted else None
        # The batch decided last, not yet in the outlier history (and whether rows by day
        # changed): brought up to date only when another batch is to be judged against it.
        stale: str | None = None
        stale_days = stale_replaced = False
        for group in _gate_groups(wanted):
            if len(group) == 1 and group[0].row_count > GATE_SLICE_ROWS:
                small: dict[str, pl.DataFrame] = {}
            else:
                small = {m.batch_id: read_batch(paths.landing, m) for m in group}
            pending = PendingBatches(suite, small)
            for manifest in group:
                if stale is not None and loaded is not None:
                    loaded = refresh_outlier_history(
                        connection, system.name, table.name, loaded, stale, suite
                    )
                if stale_days and days is not None and stale is not None:
                    days = (
                        _loaded_days(connection, system.name, table, suite)
                        if stale_replaced
                        else _recount_days(connection, system.name, table, suite, days, stale)
                    )
                stale, stale_days, stale_replaced = None, False, False
                history = [rows for _, (rows, status) in sorted(ledger.items()) if status != "held"]
                if manifest.batch_id in small:
                    landed = small[manifest.batch_id]
                    verdict, typed = validate_batch(
                        manifest.batch_id,
                        landed,
                        suite,
                        history,
                        loaded,
                        pending,
                        business_key=table.business_key,
                        loaded_days=days,
                    )
                    slices: Iterable[tuple[int, pl.DataFrame, pl.DataFrame]] = [(0, landed, typed)]
                else:
                    verdict = validate_batch_in_slices(
                        manifest.batch_id,
                        functools.partial(
                            read_batch_slices, paths.landing, manifest, GATE_SLICE_ROWS
                        ),
                        manifest.row_count,
                        suite,
                        history,
                        loaded,
                        business_key=table.business_key,
                        loaded_days=days,
                    )
                    slices = (
                        (offset, landed, cast_to_contract(landed, suite.columns)[0])
                        for offset, landed in read_batch_slices(
                            paths.landing, manifest, GATE_SLICE_ROWS
                        )
                    )
                page = write_gate_report(
                    paths.quality_results, system.name, table.name, verdict, manifest.file
                )
                load = load_batch_slices(
                    connection,
                    manifest,
                    slices,
                    verdict,
                    str(page),
                    replaces=manifest.batch_id in ledger,
                )
                loads.append(load)
                pages.append(str(page))
                where = manifest.source_file or manifest.batch_id
                findings.extend(
                    (where, failure.row_number, failure.field, failure.value, failure.rule)
                    for failure in verdict.row_failures[: FINDINGS_SHOWN - len(findings)]
                )
                stale_replaced = manifest.batch_id in ledger
                ledger[manifest.batch_id] = (load.extracted_rows, load.status)
                stale, stale_days = manifest.batch_id, bool(load.loaded_rows) or stale_replaced
        holds = open_holds(connection, system.name, table.name)
    return GateOutcome(loads=loads, open_holds=holds, findings=findings, pages=pages)


def _loaded_days(
    connection: duckdb.DuckDBPyConnection, system: str, table: SourceTable, suite: TableSuite
) -> dict[dt.date, int] | None:
    """Rows (distinct business keys) by day already in raw, for the daily volume rule."""
    rule = suite.daily_volume
    if rule is None:
        return None
    key = ", ".join(f'"{column}"' for column in table.business_key)
    day = f'"{rule.date_column}"'
    rows = connection.execute(
        f"select {day}, count(distinct ({key})) from {raw_table(system, table.name)}"  # noqa: S608
        f" where {day} is not null group by {day}"
    ).fetchall()
    return {row[0]: int(row[1]) for row in rows}


def _recount_days(
    connection: duckdb.DuckDBPyConnection,
    system: str,
    table: SourceTable,
    suite: TableSuite,
    days: dict[dt.date, int],
    batch_id: str,
) -> dict[dt.date, int]:
    """``days`` (from :func:`_loaded_days`) after ``batch_id`` was loaded, replacing nothing:
    only the days it brought can have more rows, so only they are counted again."""
    rule = suite.daily_volume
    if rule is None:
        return days
    key = ", ".join(f'"{column}"' for column in table.business_key)
    day = f'"{rule.date_column}"'
    source = raw_table(system, table.name)
    rows = connection.execute(
        f"select {day}, count(distinct ({key})) from {source}"  # noqa: S608
        f" where {day} in (select {day} from {source} where _batch_id = ? and {day} is not null)"
        f" group by {day}",
        [batch_id],
    ).fetchall()
    return {**days, **{row[0]: int(row[1]) for row in rows}}


def register_codes(
    connection: duckdb.DuckDBPyConnection, system: str, registers: tuple[tuple[str, str], ...]
) -> dict[tuple[str, str], list[str]]:
    """Every code a register of ``system`` has held (any version loaded), by (table, column):
    a row that names a code the register has never listed is quarantined by the gate, where the
    steward sees it, rather than failing a dbt test on every run."""
    codes: dict[tuple[str, str], list[str]] = {}
    for table, column in registers:
        present = connection.execute(
            "select count(*) from information_schema.columns"
            " where table_schema = 'raw' and table_name = ? and column_name = ?",
            [f"{system}__{table}", column],
        ).fetchone()
        if not present or not present[0]:
            codes[(table, column)] = []
            continue
        rows = connection.execute(
            f'select distinct "{column}" from {raw_table(system, table)}'  # noqa: S608
            f' where "{column}" is not null'
        ).fetchall()
        codes[(table, column)] = sorted(str(row[0]) for row in rows)
    return codes


def readmit(paths: MaglumatPaths, batch_id: str) -> LoadOutcome:
    """Gate and load one landed batch again, with today's suite and reference data (after the
    data steward corrected them); its earlier verdict and quarantined rows are replaced."""
    manifest = find_batch(paths.landing, batch_id)
    rejection = rejections(paths.landing, manifest.system, manifest.table).get(batch_id)
    if rejection is not None and rejection.extract_again:
        # Its rows are read from the source again: loading this copy too would count them twice.
        raise ValueError(
            f"batch {batch_id} was rejected on {rejection.rejected_at[:10]} for its rows to be "
            "extracted again from the source; they arrive in a new batch, so this one cannot "
            "be readmitted"
        )
    system = next((s for s in load_catalogue() if s.name == manifest.system), None)
    if system is None:
        raise ValueError(f"batch {batch_id}: system {manifest.system!r} is not in the catalogue")
    outcome = gate_and_load(paths, system, system.table(manifest.table), only={batch_id})
    (load,) = outcome.loads
    return load


def reject(
    paths: MaglumatPaths, batch_id: str, reason: str, *, extract_again: bool = True
) -> Rejection:
    """Close a held batch for good: it stays out of the warehouse (and in the landing zone),
    with the steward's reason, and no longer blocks its table.

    With ``extract_again`` (the default) its rows are not lost: the table's high-water mark goes
    back to where the batch began, so the next extraction reads them again from the source (once
    fixed, they load; if not, they are held again). Without it the steward skips them knowingly,
    and the landing zone and the ledger say so. The decision is written to the landing zone
    first (where the high-water mark is read), then to the ledger.
    """
    if not reason.strip():
        raise ValueError("a reason is required to reject a batch")
    manifest = find_batch(paths.landing, batch_id)
    with write_connection(paths.warehouse) as connection:
        ensure_audit_schema(connection)
        status = connection.execute(
            "select status from audit.batches where batch_id = ?", [batch_id]
        ).fetchone()
        if status is None or status[0] != "held":
            raise ValueError(f"batch {batch_id} is not held: only held batches can be rejected")
        rejection = record_rejection(paths.landing, manifest, reason, extract_again=extract_again)
        what_next = (
            "its rows are extracted again on the next run"
            if rejection.extract_again
            else "its rows are skipped for good"
        )
        connection.execute(
            "update audit.batches set status = 'rejected',"
            " gate_summary = gate_summary || ' | rejected by the data steward: ' || ? || '; ' || ?"
            " where batch_id = ? and status = 'held'",
            [reason, what_next, batch_id],
        )
    return rejection


def ensure_raw_tables(paths: MaglumatPaths, systems: list[SourceSystem]) -> None:
    """Every catalogued table exists in raw (empty until its first batch), so the dbt project
    builds even while a system has not delivered yet or cannot be reached."""
    with write_connection(paths.warehouse) as connection:
        ensure_audit_schema(connection)
        for system in systems:
            for table in system.tables:
                suite = load_suite(system, table.name)
                ensure_raw_table(connection, system.name, table.name, suite.columns)
