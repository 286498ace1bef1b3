"""``maglumat quarantine``: what is held, quarantined, or failed a blocking dbt test."""

from __future__ import annotations

import json

from maglumat.catalogue import load_catalogue
from pipelines import cli_arguments as arguments_of
from pipelines.commands.home import (
    existing_home_paths,
)

_ROWS_SHOWN_PER_HELD_BATCH = 20


def row_label(row_json: str, key: tuple[str, ...]) -> str:
    """The row as the source knows it: its business key's values, where the row has them."""
    record = json.loads(row_json)
    values = [f"{column}={record[column]}" for column in key if record.get(column) is not None]
    return f" ({', '.join(values)})" if values else ""


def quarantine(system: str | None) -> int:
    """Held batches with their failing rows, and quarantined rows, from the warehouse's audit
    (held batches never reach a snapshot, so this reads the pipeline's file, briefly, under the
    writer lock). Each row is named by its file or batch, its row number and its business key."""
    import duckdb

    from pipelines import dbt_failures
    from warehouse.duck import writer_lock

    paths = existing_home_paths()
    if not paths.warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {paths.warehouse}: run the pipeline first")
    catalogue = load_catalogue()
    if system is not None:
        system = arguments_of.one_of(
            system, sorted(source.name for source in catalogue), "sector system", "--system"
        )
    keys = {
        (source.name, table.name): table.business_key
        for source in catalogue
        for table in source.tables
    }
    failure_columns = (
        "q.batch_id, q.system, q.table_name, coalesce(b.source_file, q.landed_file),"
        " q.row_number, q.rule, q.field, q.value, q.row_json"
    )
    with writer_lock(paths.warehouse, timeout_seconds=60):
        connection = duckdb.connect(str(paths.warehouse), read_only=True)
        try:
            held = connection.execute(
                "select batch_id, system, table_name, gate_summary, gate_report"
                " from audit.batches where status = 'held' and (? is null or system = ?)"
                " order by batch_id",
                [system, system],
            ).fetchall()
            tables = {
                row[0]
                for row in connection.execute(
                    "select table_name from information_schema.tables where table_schema = 'audit'"
                ).fetchall()
            }
            held_rows = (
                connection.execute(
                    f"select {failure_columns} from audit.held_row_failures as q"  # noqa: S608
                    " inner join audit.batches as b on q.batch_id = b.batch_id"
                    " where b.status = 'held' and (? is null or q.system = ?)"
                    " order by q.batch_id, q.row_number, q.rule",
                    [system, system],
                ).fetchall()
                if "held_row_failures" in tables
                else []
            )
            rows = connection.execute(
                f"select {failure_columns} from audit.quarantine as q"  # noqa: S608
                " inner join audit.batches as b on q.batch_id = b.batch_id"
                " where ? is null or q.system = ?"
                " order by q.system, q.table_name, q.batch_id, q.row_number",
                [system, system],
            ).fetchall()
            failed_tests = [
                description
                for description in dbt_failures.recorded(connection)
                if system is None or system in description
            ]
        finally:
            connection.close()

    def line(row: tuple) -> str:
        _, system_name, table, landed_file, row_number, rule, field, value, row_json = row
        label = row_label(row_json, keys.get((system_name, table), ()))
        record = json.loads(row_json)
        if record.get("log_file") and record.get("log_line"):
            # An event log's batch spans many files: the row's own file and line name it.
            where = f"{system_name}.{table} {record['log_file']} line {record['log_line']}"
        else:
            where = f"{system_name}.{table} {landed_file} row {row_number}{label}"
        return f"{where}: {field} = {value!r} fails {rule}"

    print(f"Held batches: {len(held)}")
    for batch_id, system_name, table, reason, report in held:
        print(f"  {system_name}.{table} {batch_id}: {reason}\n    report: {report}")
        failing = [row for row in held_rows if row[0] == batch_id]
        if failing:
            print(f"    failing rows: {len({row[4] for row in failing})}")
        for row in failing[:_ROWS_SHOWN_PER_HELD_BATCH]:
            print(f"    {line(row)}")
        if len(failing) > _ROWS_SHOWN_PER_HELD_BATCH:
            print(f"    ... and {len(failing) - _ROWS_SHOWN_PER_HELD_BATCH} more in the report")
    print(f"Quarantined rows: {len(rows)}")
    for row in rows:
        print(f"  {line(row)}")
    if failed_tests:
        print(f"Blocking dbt tests that failed in the last build: {len(failed_tests)}")
        for description in failed_tests:
            print(f"  {description}")
    return 0
