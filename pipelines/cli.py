"""The ``maglumat`` command: simulate, run the pipeline, and read what it produced."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.catalogue import load_catalogue
from pipelines.landing import LandingError
from pipelines.settings import DBT_PROJECT_DIR, MaglumatPaths


def _paths() -> MaglumatPaths:
    paths = MaglumatPaths.from_env()
    os.environ["MAGLUMAT_HOME"] = str(paths.home)  # dbt, run as a subprocess, reads it
    paths.ensure()
    return paths


def _as_of(text: str | None) -> dt.datetime:
    from simulator.agriculture import DEFAULT_AS_OF

    if not text:
        return DEFAULT_AS_OF
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _seed(seed: int | None) -> int:
    from simulator.agriculture import DEFAULT_SEED

    return DEFAULT_SEED if seed is None else seed


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def simulate(as_of: str | None, seed: int | None) -> None:
    from simulator import simulate_all

    paths = _paths()
    moment = _as_of(as_of)
    for sector, added in simulate_all(paths, moment, _seed(seed)).items():
        summary = ", ".join(f"{table} +{count}" for table, count in added.items())
        print(f"[simulate] {sector} as of {moment.isoformat()}: {summary}")


def prepare() -> None:
    """Parse the dbt project once, so Dagster can build its assets from the manifest."""
    from dagster_dbt import DbtCliResource

    from pipelines.assets.transform import DBT_PROJECT, dbt_executable

    _paths()
    print("[prepare] parsing the dbt project")
    DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable()).cli(
        ["parse", "--quiet"], target_path=DBT_PROJECT.target_path
    ).wait()


def run_pipeline(simulated: bool = False, as_of: str | None = None, seed: int | None = None) -> int:
    """Run the daily job end to end on this machine's Dagster instance; 0 when all is green.

    With ``simulated``, the simulated network services (the HTTP APIs) run for the duration.
    """
    import dagster as dg

    if simulated:
        from simulator import serving_all

        with serving_all(_paths(), _as_of(as_of), _seed(seed)) as served:
            if served:
                print(f"[run] simulated services up: {', '.join(served)}")
            return run_pipeline(simulated=False)

    from pipelines.definitions import DAILY_JOB, build_definitions

    paths = _paths()
    os.environ.setdefault("DAGSTER_HOME", str(paths.dagster_home))
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").touch()  # the local instance: SQLite storage in this folder
    if not (DBT_PROJECT_DIR / "target" / "manifest.json").exists():
        prepare()
    print("[run] extract -> land -> quality gate -> raw -> dbt -> snapshot")
    job = build_definitions().resolve_job_def(DAILY_JOB)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    for evaluation in failed:
        key = evaluation.asset_check_key
        level = "WARNING" if evaluation.severity == dg.AssetCheckSeverity.WARN else "FAILED"
        detail = f": {evaluation.description}" if evaluation.description else ""
        print(f"[run] {level} {key.name} on {key.asset_key.to_user_string()}{detail}")
    blocking = [e for e in failed if e.severity == dg.AssetCheckSeverity.ERROR]
    if not result.success or blocking:
        for event in result.all_events:
            if event.is_step_failure:
                print(
                    f"[run] step {event.step_key} failed: {event.event_specific_data.error.message}"
                )
        print("[run] the snapshot was not updated: readers keep the last good one.")
        print("[run] see `maglumat quarantine` for held batches and quarantined rows.")
        return 1
    print(f"[run] run {result.run_id} succeeded")
    return 0


def summary() -> None:
    from warehouse.snapshot import current_snapshot

    paths = _paths()
    snapshot = current_snapshot(paths)
    reports = sorted(paths.reports.glob("archive/*/*/**/*.pdf"))
    print()
    print("Maglumat demo is ready.")
    print(f"  warehouse (pipeline only): {_relative(paths.warehouse)}")
    if snapshot:
        current = paths.snapshots / "current" / "warehouse.duckdb"
        print(f"  published snapshot:        {_relative(current)} ({snapshot.snapshot_id})")
    if reports:
        print(f"  reports (PDF, HTML, XLSX): {_relative(paths.reports / 'archive')}")
        for kind in ("daily_campaign", "weekly_ministry", "monthly_government"):
            pdfs = [path for path in reports if path.name.startswith(f"{kind}_")]
            if pdfs:
                print(f"    {kind + ':':27}{_relative(pdfs[-1])} ({len(pdfs)} PDFs)")
    print(f"  quality gate results:      {_relative(paths.quality_results)}")
    print()
    print("Query the snapshot:")
    print('  .venv/bin/maglumat sql "select region_name_en, progress_pct, required_daily_rate')
    print("      from indicators.ind_campaign_progress where region_level = 'province'")
    print("      and campaign_id = 'cotton_harvest_2023'")
    print('      order by report_date desc, progress_pct limit 5"')
    print(
        "  .venv/bin/python -c \"import duckdb; con = duckdb.connect('var/snapshots/current/"
        "warehouse.duckdb', read_only=True); print(con.sql('show all tables'))\""
    )
    print("Open the Dagster UI: make ui   (then http://127.0.0.1:3000)")


def render_reports(
    kind: str,
    period_day: dt.date,
    languages: Sequence[str] | None = None,
    ministries: Sequence[str] | None = None,
    deliver: bool = False,
) -> int:
    """Render (again) the report of ``kind`` for the period containing ``period_day`` into the
    archive, in every language (or ``languages``); e-mail it only with ``deliver``. 0 when all
    went well."""
    import dagster as dg

    from pipelines.assets.reports import REPORT_KEYS, report_job_name
    from pipelines.definitions import build_definitions
    from pipelines.reporting.delivery import LANGUAGES
    from pipelines.reporting.periods import (
        WEEKLY,
        ministry_ids,
        partition_key_for,
        period_containing,
    )

    paths = _paths()
    os.environ.setdefault("DAGSTER_HOME", str(paths.dagster_home))
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").touch()
    period = period_containing(kind, period_day)
    if kind == WEEKLY:
        unknown = set(ministries or ()) - set(ministry_ids())
        if unknown:
            raise ValueError(f"unknown ministries {sorted(unknown)}: {', '.join(ministry_ids())}")
        keys = [partition_key_for(period, ministry) for ministry in ministries or ministry_ids()]
    else:
        keys = [partition_key_for(period)]
    job = build_definitions().resolve_job_def(report_job_name(kind))
    run_config = {
        "ops": {
            REPORT_KEYS[kind].to_python_identifier(): {
                "config": {"languages": list(languages or LANGUAGES), "deliver": deliver}
            }
        },
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
    }
    failures = 0
    with dg.DagsterInstance.get() as instance:
        for key in keys:
            result = job.execute_in_process(
                instance=instance, partition_key=key, run_config=run_config, raise_on_error=False
            )
            if result.success:
                print(f"[report] {kind} {period.label} ({key}): done")
                continue
            failures += 1
            for event in result.all_events:
                if event.is_step_failure:
                    message = event.event_specific_data.error.message
                    print(f"[report] {kind} {period.label}: {message}")
    return 1 if failures else 0


def demo_reports(as_of: dt.datetime) -> int:
    """The demo's reports: the daily one for the latest reported day, the weekly ones for the
    latest complete ISO week and the monthly one for the latest complete month."""
    from maglumat import clock
    from pipelines.reporting.periods import (
        DAILY,
        MONTHLY,
        WEEKLY,
        latest_complete_period,
    )
    from warehouse.snapshot import open_current

    today = clock.local_date(as_of)
    connection = open_current(_paths())
    try:
        row = connection.execute(
            "select max(report_date) from indicators.ind_campaign_progress"
        ).fetchone()
    finally:
        connection.close()
    latest_day = row[0] if row and row[0] else latest_complete_period(DAILY, today).start
    status = 0
    for kind, day in (
        (DAILY, latest_day),
        (WEEKLY, latest_complete_period(WEEKLY, today).start),
        (MONTHLY, latest_complete_period(MONTHLY, today).start),
    ):
        print(f"[demo] {kind} report for the period of {day.isoformat()}")
        status |= render_reports(kind, day)
    return status


def demo(as_of: str | None, seed: int | None) -> int:
    simulate(as_of, seed)
    prepare()
    status = run_pipeline(simulated=True, as_of=as_of, seed=seed)
    if status == 0:
        status = demo_reports(_as_of(as_of))
    summary()
    return status


def sql(query: str, output: str | None, as_of: str | None = None) -> int:
    """Query the published snapshot (or the one in force ``as_of``); print the result, or write
    it to ``output`` (.csv, .xlsx or .parquet). Bad SQL is one line on stderr and exit code 2."""
    import duckdb
    import polars as pl

    from warehouse.client import Warehouse, check_output_path, write_frame

    target = check_output_path(Path(output)) if output else None
    with Warehouse(_paths().home, as_of=as_of) as warehouse:
        if as_of:
            print(f"[sql] snapshot {warehouse.snapshot_id}, in force at {as_of}", file=sys.stderr)
        try:
            frame = warehouse.sql(query)
        except duckdb.Error as error:
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            print(f"maglumat sql: {first_line}", file=sys.stderr)
            return 2
    if target:
        write_frame(frame, target)
        print(f"{frame.height} rows written to {output}")
        return 0
    with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=40, tbl_width_chars=160):
        print(frame)
    return 0


def search(words: Sequence[str], language: str | None, limit: int, as_of: str | None) -> int:
    """Indicators, tables and columns matching every word; 1 when nothing matches."""
    from warehouse.client import Warehouse
    from warehouse.search import render
    from warehouse.search import search as search_catalogue

    with Warehouse(_paths().home, as_of=as_of) as warehouse:
        results = search_catalogue(
            warehouse.connection, " ".join(words), language=language, limit=limit
        )
    print(render(results))
    return 0 if results.hits else 1


_ROWS_SHOWN_PER_HELD_BATCH = 20


def _row_label(row_json: str, key: tuple[str, ...]) -> str:
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

    paths = _paths()
    if not paths.warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {paths.warehouse}: run the pipeline first")
    keys = {
        (source.name, table.name): table.business_key
        for source in load_catalogue()
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
        label = _row_label(row_json, keys.get((system_name, table), ()))
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


def publish_serving() -> int:
    """Publish the current snapshot to the BI tools' PostgreSQL database now (what the daily
    job does after every green run when ``MAGLUMAT_SERVING_DSN`` is set)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    from pipelines.assets.serving import (
        SERVING_DSN_ENV,
        SERVING_ROLE_PREFIX_ENV,
        ServingDatabaseResource,
    )
    from warehouse.serving import DEFAULT_ROLE_PREFIX, ServingError, publish_to_postgres
    from warehouse.snapshot import current_snapshot

    dsn = os.environ.get(SERVING_DSN_ENV)
    if not dsn:
        raise ValueError(f"set {SERVING_DSN_ENV} to the serving database's connection string")
    try:
        conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        # Not psycopg's own message: it quotes the whole string, password included.
        raise ValueError(f"{SERVING_DSN_ENV} is not a PostgreSQL connection string") from None
    snapshot = current_snapshot(_paths())
    if snapshot is None:
        raise FileNotFoundError("no snapshot has been published yet: run the pipeline first")
    prefix = os.environ.get(SERVING_ROLE_PREFIX_ENV) or DEFAULT_ROLE_PREFIX
    where = ServingDatabaseResource(dsn=dsn, role_prefix=prefix).describe()
    try:
        publication = publish_to_postgres(
            snapshot.path, snapshot.snapshot_id, dsn, prefix, log=print
        )
    except psycopg.OperationalError as error:
        raise ConnectionError(f"cannot reach the serving database {where}") from error
    except ServingError as error:
        print(f"maglumat: {error}", file=sys.stderr)
        return 1
    rows = sum(publication.table_rows.values())
    print(
        f"[serving] snapshot {publication.snapshot_id} published to {where}:"
        f" {len(publication.table_rows)} tables, {rows} rows in {publication.seconds:.1f} s"
    )
    print(f"[serving] roles: {', '.join(publication.roles)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="maglumat", description="Maglumat: government data warehouse and ETL pipeline."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="simulate the sector systems and run everything")
    simulate_parser = commands.add_parser("simulate", help="bring the simulated systems to a date")
    commands.add_parser("prepare", help="parse the dbt project (writes its manifest)")
    run_parser = commands.add_parser("run", help="run the daily job once, end to end")
    run_parser.add_argument(
        "--simulated", action="store_true", help="serve the simulated APIs during the run"
    )
    for sub in (demo_parser, simulate_parser, run_parser):
        sub.add_argument("--as-of", help="simulated time, ISO 8601 (default 2023-10-01T06:00Z)")
        sub.add_argument("--seed", type=int, help="simulation seed (default: the demo's)")
    sql_parser = commands.add_parser("sql", help="query the published snapshot (read-only)")
    sql_parser.add_argument("query")
    sql_parser.add_argument(
        "--output", "--csv", dest="output", help="write the result to FILE.csv, .xlsx or .parquet"
    )
    search_parser = commands.add_parser(
        "search", help="find indicators, tables and columns (Turkmen, Russian, English)"
    )
    search_parser.add_argument("words", nargs="+")
    search_parser.add_argument("--language", choices=["tk", "ru", "en"])
    search_parser.add_argument("--limit", type=int, default=10, help="results of each kind")
    for sub in (sql_parser, search_parser):
        sub.add_argument(
            "--as-of", help="read the snapshot in force at the end of this date (Aşgabat)"
        )
    readmit_parser = commands.add_parser(
        "readmit", help="gate and load a landed batch again (after its suite or data was fixed)"
    )
    readmit_parser.add_argument("batch_id")
    reject_parser = commands.add_parser(
        "reject", help="keep a held batch out for good, releasing its table"
    )
    reject_parser.add_argument("batch_id")
    reject_parser.add_argument("--reason", required=True)
    reject_parser.add_argument(
        "--skip-rows",
        action="store_true",
        help="skip the batch's rows for good instead of extracting them again (recorded)",
    )
    quarantine_parser = commands.add_parser(
        "quarantine", help="list held batches and quarantined rows"
    )
    quarantine_parser.add_argument("--system")
    commands.add_parser(
        "publish-serving",
        help="publish the current snapshot to the BI PostgreSQL database (MAGLUMAT_SERVING_DSN)",
    )
    report_parser = commands.add_parser(
        "report", help="render a report for a past period into the archive (again)"
    )
    report_parser.add_argument(
        "kind", choices=("daily_campaign", "weekly_ministry", "monthly_government")
    )
    report_parser.add_argument(
        "--period", required=True, help="a day of the period, YYYY-MM-DD (its week, its month)"
    )
    report_parser.add_argument(
        "--language", action="append", choices=("tk", "ru", "en"), help="only this language"
    )
    report_parser.add_argument(
        "--ministry", action="append", help="weekly report: only this ministry (repeatable)"
    )
    report_parser.add_argument(
        "--deliver", action="store_true", help="also e-mail the recipients (needs SMTP settings)"
    )
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "demo":
            return demo(arguments.as_of, arguments.seed)
        if arguments.command == "simulate":
            simulate(arguments.as_of, arguments.seed)
            return 0
        if arguments.command == "prepare":
            prepare()
            return 0
        if arguments.command == "run":
            return run_pipeline(arguments.simulated, arguments.as_of, arguments.seed)
        if arguments.command == "sql":
            return sql(arguments.query, arguments.output, arguments.as_of)
        if arguments.command == "search":
            return search(arguments.words, arguments.language, arguments.limit, arguments.as_of)
        if arguments.command == "report":
            return render_reports(
                arguments.kind,
                dt.date.fromisoformat(arguments.period),
                arguments.language,
                arguments.ministry,
                arguments.deliver,
            )
        if arguments.command == "readmit":
            from pipelines.ingest import readmit

            load = readmit(_paths(), arguments.batch_id)
            print(
                f"batch {load.batch_id}: {load.status}; {load.extracted_rows} extracted ="
                f" {load.loaded_rows} loaded + {load.quarantined_rows} quarantined"
                f" + {load.held_rows} held"
            )
            return 0 if load.status != "held" else 1
        if arguments.command == "reject":
            from pipelines.ingest import reject

            rejection = reject(
                _paths(),
                arguments.batch_id,
                arguments.reason,
                extract_again=not arguments.skip_rows,
            )
            if rejection.extract_again:
                print(
                    f"batch {arguments.batch_id} rejected; it stays in the landing zone, and its"
                    " rows are extracted again on the next run (held again until the source is"
                    " fixed; --skip-rows skips them)"
                )
            else:
                print(
                    f"batch {arguments.batch_id} rejected; it stays in the landing zone, and its"
                    " rows are skipped for good (recorded in the ledger and the landing zone)"
                )
            return 0
        if arguments.command == "publish-serving":
            return publish_serving()
        return quarantine(arguments.system)
    except (FileNotFoundError, ConnectionError, TimeoutError, ValueError, LandingError) as error:
        print(f"maglumat: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
