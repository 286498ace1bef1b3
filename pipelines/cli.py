"""The ``maglumat`` command: simulate, run the pipeline, and read what it produced."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from maglumat.languages import LANGUAGES
from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths
from pipelines import cli_arguments as arguments_of
from pipelines.catalogue import load_catalogue
from pipelines.cli_arguments import UsageError
from pipelines.landing import LandingError


def _paths() -> MaglumatPaths:
    """The home of a command that makes it (demo, simulate, prepare, run)."""
    paths = MaglumatPaths.from_env()
    os.environ["MAGLUMAT_HOME"] = str(paths.home)  # dbt, run as a subprocess, reads it
    paths.ensure()
    return paths


def _existing_paths() -> MaglumatPaths:
    """The home of a command that reads it: never made here, so a mistyped MAGLUMAT_HOME is
    an error rather than a new, empty warehouse."""
    paths = MaglumatPaths.from_env()
    if not paths.warehouse.exists() and not paths.snapshots.exists():
        where = "MAGLUMAT_HOME" if os.environ.get("MAGLUMAT_HOME") else "the default home"
        raise UsageError(
            f"{where} {paths.home} holds no warehouse: set MAGLUMAT_HOME to the folder the"
            " pipeline writes (`make demo` makes ./var), or run the pipeline first"
        )
    os.environ["MAGLUMAT_HOME"] = str(paths.home)
    return paths


def _as_of(value: dt.datetime | None) -> dt.datetime:
    from maglumat.demo import DEFAULT_AS_OF

    return DEFAULT_AS_OF if value is None else value


def _seed(seed: int | None) -> int:
    from maglumat.demo import DEFAULT_SEED

    return DEFAULT_SEED if seed is None else seed


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def simulate(as_of: dt.datetime | None, seed: int | None) -> None:
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


def run_pipeline(
    simulated: bool = False, as_of: dt.datetime | None = None, seed: int | None = None
) -> int:
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

    from maglumat import clock
    from pipelines.dbt_plan import parse_is_current
    from pipelines.progress import elapsed_since, new_log_path, quiet_run, stage_figures
    from pipelines.progress import stage_lines as lines_of

    started = time.perf_counter()
    paths = _paths()
    _dagster_home(paths)
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists() or not parse_is_current(manifest, DBT_PROJECT_DIR):
        # After an upgrade the parse is older than the project: the definitions would not
        # know the new models dbt is about to build. Parsed before the definitions are
        # imported, which read the manifest once per process.
        prepare()
    from pipelines.definitions import DAILY_JOB, build_definitions

    job = build_definitions().resolve_job_def(DAILY_JOB)
    log_path = new_log_path(paths.home / "logs", clock.now())
    print("[run] extract -> land -> quality gate -> raw -> dbt -> snapshot")
    with quiet_run(log_path), dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=_progress_config(log_path, len(job.graph.nodes)),
        )
    for line in lines_of(stage_figures(result)):
        print(line)
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
        print(f"[run] full log: {_relative(log_path)}")
        return 1
    print(f"[run] run {result.run_id} succeeded in {elapsed_since(started)}")
    print(f"[run] full log: {_relative(log_path)}")
    return 0


def _dagster_home(paths: MaglumatPaths) -> None:
    """Dagster's local instance: SQLite storage in the home's folder (or DAGSTER_HOME)."""
    os.environ.setdefault("DAGSTER_HOME", str(paths.dagster_home))
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    settings = dagster_home / "dagster.yaml"
    if not settings.exists() or not settings.read_text(encoding="utf-8").strip():
        # A ministry's servers reach no internet: Dagster's usage statistics stay off.
        settings.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")


def _progress_config(log_path: Path, steps: int) -> dict[str, Any]:
    """The command line's logger (pipelines/progress.py) instead of Dagster's console."""
    return {"loggers": {"progress": {"config": {"log_file": str(log_path), "total_steps": steps}}}}


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

    from maglumat import clock
    from pipelines.definitions import build_definitions
    from pipelines.progress import elapsed_since, new_log_path, quiet_run
    from pipelines.reporting.assets import REPORT_KEYS, report_job_name
    from pipelines.reporting.delivery import LANGUAGES
    from pipelines.reporting.periods import (
        FIRST_DAY,
        FIRST_MONDAY,
        WEEKLY,
        ministry_ids,
        partition_key_for,
        partitions_for,
        period_containing,
    )

    if ministries and kind != WEEKLY:
        raise UsageError(f"--ministry: only the weekly_ministry report is per ministry, not {kind}")
    chosen = [
        arguments_of.one_of(ministry, list(ministry_ids()), "ministry", "--ministry")
        for ministry in ministries or ()
    ]
    period = period_containing(kind, period_day)
    partitions = partitions_for(kind)
    keys = (
        [partition_key_for(period, ministry) for ministry in chosen or ministry_ids()]
        if kind == WEEKLY
        else [partition_key_for(period)]
    )
    if not partitions.has_partition_key(keys[0]):
        first = period_containing(kind, FIRST_DAY if kind != WEEKLY else FIRST_MONDAY)
        raise UsageError(
            f"--period {period_day}: no {kind} report covers it; its periods run from"
            f" {first.label} to the latest one complete ({_latest_label(kind, partitions)})"
        )
    paths = _existing_paths()
    _dagster_home(paths)
    job = build_definitions().resolve_job_def(report_job_name(kind))
    log_path = new_log_path(paths.home / "logs", clock.now())
    run_config = {
        "ops": {
            REPORT_KEYS[kind].to_python_identifier(): {
                "config": {"languages": list(languages or LANGUAGES), "deliver": deliver}
            }
        },
        **_progress_config(log_path, 1),
    }
    failures, started = 0, time.perf_counter()
    with quiet_run(log_path), dg.DagsterInstance.get() as instance:
        for key in keys:
            result = job.execute_in_process(
                instance=instance, partition_key=key, run_config=run_config, raise_on_error=False
            )
            if result.success:
                continue
            failures += 1
            for event in result.all_events:
                if event.is_step_failure:
                    message = event.event_specific_data.error.message
                    print(f"[report] {kind} {period.label} ({key}): {message}", file=sys.stderr)
    done = len(keys) - failures
    scope = f"{done} of {len(keys)} ministries" if kind == WEEKLY else "rendered"
    print(
        f"[report] {kind} {period.label}: {scope}, {len(languages or LANGUAGES)} languages"
        f" ({elapsed_since(started)}); log: {_relative(log_path)}"
    )
    return 1 if failures else 0


def _latest_label(kind: str, partitions: Any) -> str:
    from pipelines.reporting.periods import period_of_partition

    last = partitions.get_last_partition_key()
    return period_of_partition(kind, last)[0].label if last else "none yet"


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
        status |= render_reports(kind, day)
    return status


def demo(as_of: dt.datetime | None, seed: int | None) -> int:
    simulate(as_of, seed)
    prepare()
    status = run_pipeline(simulated=True, as_of=as_of, seed=seed)
    if status == 0:
        status = demo_reports(_as_of(as_of))
    summary()
    return status


def sql(
    query: str,
    output: str | None,
    as_of: str | None = None,
    max_rows: int = 50,
    excel_csv: bool = False,
) -> int:
    """Query the published snapshot (or the one in force ``as_of``): print each statement's
    result (at most ``max_rows`` rows, 0 for all; full width into a pipe), or write the one
    statement's result to ``output`` (.csv, .xlsx or .parquet). Bad SQL is one line on stderr
    and exit code 2."""
    import duckdb
    import polars as pl

    from warehouse.client import Warehouse, check_output_path, write_frame

    target = check_output_path(Path(output)) if output else None
    if excel_csv and (target is None or target.suffix.lower() != ".csv"):
        raise UsageError("--excel-csv: goes with --output FILE.csv")
    with Warehouse(_existing_paths().home, as_of=as_of) as warehouse:
        if as_of:
            print(f"[sql] snapshot {warehouse.snapshot_id}, in force at {as_of}", file=sys.stderr)
        try:
            statements = [s.query.strip() for s in warehouse.connection.extract_statements(query)]
            if not statements:
                raise UsageError(
                    'QUERY: no SQL statement in it; e.g. maglumat sql "select 1"'
                    " (`maglumat search WORDS` finds tables and indicators)"
                )
            if target and len(statements) > 1:
                raise UsageError(
                    f"--output: writes one statement's result, and the query has {len(statements)}"
                )
            results = [(statement, warehouse.sql(statement)) for statement in statements]
        except duckdb.Error as error:
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            print(f"maglumat sql: {first_line}", file=sys.stderr)
            return 2
    if target:
        ((_, frame),) = results
        write_frame(frame, target, excel=excel_csv)
        print(f"{frame.height} rows written to {output}")
        return 0
    into_pipe = not sys.stdout.isatty()
    for statement, frame in results:
        if len(results) > 1:
            print(f"-- {statement}")
        shown = frame.height if max_rows == 0 else min(max_rows, frame.height)
        with pl.Config(
            tbl_rows=shown,
            tbl_cols=-1 if into_pipe else 20,
            fmt_str_lengths=10_000 if into_pipe else 40,
            tbl_width_chars=65_535 if into_pipe else 160,
        ):
            print(frame)
        if shown < frame.height:
            print(
                f"[sql] {shown} of {frame.height} rows shown: --max-rows N or --all to see"
                " more, --output FILE.xlsx to keep them all",
                file=sys.stderr,
            )
    return 0


def search(words: Sequence[str], language: str | None, limit: int, as_of: str | None) -> int:
    """Indicators, tables and columns matching every word; 1 when nothing matches."""
    from warehouse.client import Warehouse
    from warehouse.search import render
    from warehouse.search import search as search_catalogue

    with Warehouse(_existing_paths().home, as_of=as_of) as warehouse:
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

    paths = _existing_paths()
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
        label = _row_label(row_json, keys.get((system_name, table), ()))
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


def publish_serving() -> int:
    """Publish the current snapshot to the BI tools' PostgreSQL database now (what the daily
    job does after every green run when ``MAGLUMAT_SERVING_DSN`` is set)."""
    from warehouse.serving import publish_to_postgres
    from warehouse.snapshot import current_snapshot

    dsn, prefix, where = _serving_database()
    snapshot = current_snapshot(_existing_paths())
    if snapshot is None:
        raise FileNotFoundError("no snapshot has been published yet: run the pipeline first")
    from pipelines.assets.serving import policy_from_environment

    policy = policy_from_environment()
    with _serving_errors("publish-serving", where):
        publication = publish_to_postgres(
            snapshot.path, snapshot.snapshot_id, dsn, prefix, policy=policy, log=print
        )
    rows = sum(publication.table_rows.values())
    print(
        f"[serving] snapshot {publication.snapshot_id} published to {where}:"
        f" {len(publication.table_rows)} tables, {rows} rows in {publication.seconds:.1f} s"
        f" (readers waited {publication.swap_lock_seconds * 1000:.0f} ms at the swap)"
    )
    print(f"[serving] groups: {', '.join(publication.roles)}")
    return 0


def _serving_database() -> tuple[str, str, str]:
    """The serving database's DSN, role prefix, and a description without user or password."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    from pipelines.assets.serving import (
        SERVING_DSN_ENV,
        SERVING_ROLE_PREFIX_ENV,
        ServingDatabaseResource,
    )
    from warehouse.serving import DEFAULT_ROLE_PREFIX

    dsn = os.environ.get(SERVING_DSN_ENV)
    if not dsn:
        raise UsageError(f"set {SERVING_DSN_ENV} to the serving database's connection string")
    try:
        conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        # Not psycopg's own message: it quotes the whole string, password included.
        raise UsageError(f"{SERVING_DSN_ENV} is not a PostgreSQL connection string") from None
    prefix = os.environ.get(SERVING_ROLE_PREFIX_ENV) or DEFAULT_ROLE_PREFIX
    return dsn, prefix, ServingDatabaseResource(dsn=dsn, role_prefix=prefix).describe()


class _ServingRefusedError(Exception):
    """Reported already; the command exits 1."""


@contextlib.contextmanager
def _serving_errors(command: str, where: str) -> Iterator[None]:
    """The serving database's refusals as one line each, naming the database and the cause."""
    import psycopg

    from warehouse.serving import ServingError

    try:
        yield
    except psycopg.OperationalError as error:
        # The server's own reason (no such database, a wrong password, refused): psycopg's
        # message names host, port and user, never the password.
        cause = " ".join(str(error).split())
        raise ConnectionError(f"cannot reach the serving database {where}: {cause}") from error
    except psycopg.Error as error:
        cause = (str(error).strip().splitlines() or [type(error).__name__])[0]
        hint = ""
        if isinstance(error, psycopg.errors.InsufficientPrivilege):
            hint = " (the publisher needs CREATEROLE and to own the serving schemas)"
        elif isinstance(error, psycopg.errors.ReadOnlySqlTransaction):
            hint = " (the connection is read-only: a standby, or default_transaction_read_only)"
        print(f"maglumat {command}: {where}: {cause}{hint}", file=sys.stderr)
        raise _ServingRefusedError from error
    except ServingError as error:
        print(f"maglumat {command}: {error}", file=sys.stderr)
        raise _ServingRefusedError from error


def _read_password(name: str) -> str:
    """A new password from the terminal (asked twice, never echoed) or the first line of
    standard input; never from the command line, where other users and logs see it."""
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            raise UsageError("the two passwords differ; nothing was changed")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def serving_users(command: str, name: str | None, ministry: str | None) -> int:
    """``maglumat serving add-user|remove-user|list-users``: the people who read the BI
    database, each with a login of their own in their ministry's group."""
    from pipelines.assets.serving import policy_from_environment
    from warehouse.serving.users import add_user, list_users, remove_user

    dsn, prefix, where = _serving_database()
    with _serving_errors(f"serving {command}", where):
        if command == "add-user":
            assert name is not None
            assert ministry is not None
            password = _read_password(name)
            reader = add_user(dsn, prefix, name, ministry, password, policy_from_environment())
            print(
                f"{reader.name} may now log in to {where} and reads what {reader.ministry}"
                f" reads (at most {reader.connection_limit} connections)"
            )
        elif command == "remove-user":
            assert name is not None
            ended = remove_user(dsn, prefix, name)
            print(f"{name} removed from {where}; sessions ended: {ended}")
        else:
            readers = list_users(dsn, prefix)
            if not readers:
                print(f"no readers in {where} yet: maglumat serving add-user NAME --ministry ID")
            for reader in readers:
                state = "" if reader.can_login else "  (cannot log in)"
                print(
                    f"{reader.name:<24} {reader.ministry:<14} sessions {reader.sessions}"
                    f" of {reader.connection_limit}{state}"
                )
    return 0


_EXAMPLES = {
    "demo": "maglumat demo\n  maglumat demo --as-of 2023-10-15T06:00Z --seed 7",
    "simulate": "maglumat simulate --as-of 2023-10-02T06:00Z",
    "prepare": "maglumat prepare",
    "run": "maglumat run\n  maglumat run --simulated --as-of 2023-10-02T06:00Z",
    "sql": (
        'maglumat sql "select * from indicators.dim_indicators limit 5"\n'
        '  maglumat sql "select * from marts.dim_regions" --all | less -S\n'
        '  maglumat sql "select * from indicators.ind_campaign_progress" --output progress.xlsx\n'
        '  maglumat sql "select * from marts.dim_regions" --output regions.csv --excel-csv\n'
        '  maglumat sql "select count(*) from marts.fct_source_quality" --as-of 2023-09-30'
    ),
    "search": "maglumat search bugday hasyl\n  maglumat search хлопок --language ru",
    "readmit": "maglumat readmit 20231002T063000123456Z-a1b2c3",
    "reject": (
        'maglumat reject 20231002T063000123456Z-a1b2c3 --reason "schema changed; IT fixes it"\n'
        '  maglumat reject 20231002T063000123456Z-a1b2c3 --reason "duplicate" --skip-rows'
    ),
    "quarantine": "maglumat quarantine\n  maglumat quarantine --system fuel_energy_production",
    "publish-serving": (
        "MAGLUMAT_SERVING_DSN=postgresql://maglumat@db.example/serving maglumat publish-serving"
    ),
    "serving": (
        "maglumat serving add-user aman_orazow --ministry energy   (asks for the password)\n"
        "  maglumat serving list-users\n"
        "  maglumat serving remove-user aman_orazow"
    ),
    "report": (
        "maglumat report daily_campaign --period 2023-09-30\n"
        "  maglumat report weekly_ministry --period 2023-09-25 --ministry energy --language en\n"
        "  maglumat report monthly_government --period 2023-09-01 --deliver"
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = arguments_of.Parser(
        prog="maglumat",
        description="Maglumat: government data warehouse and ETL pipeline.",
        epilog='Examples:\n  maglumat demo\n  maglumat sql "select 1"\n'
        "  maglumat quarantine\nEach command has its own --help with examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an unexpected error"
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="what to do (each has --help)"
    )

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=f"Example:\n  {_EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    demo_parser = command("demo", "simulate the sector systems and run everything once")
    simulate_parser = command("simulate", "bring the simulated sector systems to a time")
    command("prepare", "parse the dbt project (writes its manifest; run after an upgrade)")
    run_parser = command("run", "run the daily job once, end to end")
    run_parser.add_argument(
        "--simulated", action="store_true", help="serve the simulated APIs during the run"
    )
    for sub in (demo_parser, simulate_parser, run_parser):
        sub.add_argument(
            "--as-of",
            type=arguments_of.instant,
            metavar="TIME",
            help="simulated time, ISO 8601, UTC unless a zone is given (default 2023-10-01T06:00Z)",
        )
        sub.add_argument("--seed", type=int, help="simulation seed (default: the demo's)")
    sql_parser = command("sql", "query the published snapshot (read-only)")
    sql_parser.add_argument("query", metavar="QUERY", help="one or more SQL statements")
    sql_parser.add_argument(
        "--output",
        "--csv",
        dest="output",
        metavar="FILE",
        help="write the result to FILE.xlsx (for spreadsheets: typed cells), FILE.csv (UTF-8,"
        " commas: for programs) or FILE.parquet",
    )
    sql_parser.add_argument(
        "--excel-csv",
        action="store_true",
        help="write FILE.csv for Excel in a Russian or Turkmen locale: a byte order mark, `;`"
        " and decimal commas",
    )
    shown = sql_parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--max-rows",
        type=arguments_of.positive,
        default=50,
        metavar="N",
        help="rows printed of each result (default 50)",
    )
    shown.add_argument(
        "--all", dest="max_rows", action="store_const", const=0, help="print every row"
    )
    search_parser = command(
        "search", "find indicators, tables and columns (Turkmen, Russian, English)"
    )
    search_parser.add_argument("words", nargs="+", metavar="WORD", help="words to find, all of")
    search_parser.add_argument(
        "--language", choices=["tk", "ru", "en"], help="only names in this language"
    )
    search_parser.add_argument(
        "--limit", type=arguments_of.positive, default=10, help="results of each kind (10)"
    )
    for sub in (sql_parser, search_parser):
        sub.add_argument(
            "--as-of",
            type=arguments_of.day_or_time,
            metavar="DATE",
            help="read the snapshot in force at the end of this date (Aşgabat) or at this time",
        )
    readmit_parser = command(
        "readmit", "gate and load a landed batch again (after its suite or data was fixed)"
    )
    readmit_parser.add_argument(
        "batch_id", metavar="BATCH_ID", help="as `maglumat quarantine` lists it"
    )
    reject_parser = command("reject", "keep a held batch out for good, releasing its table")
    reject_parser.add_argument(
        "batch_id", metavar="BATCH_ID", help="a held batch, as `maglumat quarantine` lists it"
    )
    reject_parser.add_argument("--reason", required=True, help="why, recorded with the batch")
    reject_parser.add_argument(
        "--skip-rows",
        action="store_true",
        help="skip the batch's rows for good instead of extracting them again (recorded)",
    )
    quarantine_parser = command(
        "quarantine", "list held batches, quarantined rows and failed blocking dbt tests"
    )
    quarantine_parser.add_argument(
        "--system", metavar="NAME", help="only this sector system (as in sources.yml)"
    )
    command(
        "publish-serving",
        "publish the current snapshot to the BI PostgreSQL database (MAGLUMAT_SERVING_DSN)",
    )
    serving_parser = command(
        "serving", "the people who read the BI PostgreSQL database (MAGLUMAT_SERVING_DSN)"
    )
    serving_commands = serving_parser.add_subparsers(
        dest="serving_command", required=True, metavar="ACTION", help="what to do"
    )
    add_user_parser = serving_commands.add_parser(
        "add-user",
        help="give a person a login in a ministry's group (the password is asked for, or read"
        " from the first line of standard input; never given on the command line)",
    )
    add_user_parser.add_argument(
        "name", metavar="NAME", help="the login, e.g. aman_orazow (lowercase, digits, _)"
    )
    add_user_parser.add_argument(
        "--ministry",
        required=True,
        metavar="ID",
        help="whose figures the person reads (a ministry id, or government for all)",
    )
    remove_user_parser = serving_commands.add_parser(
        "remove-user", help="drop a person's login, ending their sessions"
    )
    remove_user_parser.add_argument("name", metavar="NAME", help="as list-users shows it")
    serving_commands.add_parser("list-users", help="every person's login, ministry and sessions")
    report_parser = command("report", "render a report for a past period into the archive")
    report_parser.add_argument(
        "kind",
        choices=("daily_campaign", "weekly_ministry", "monthly_government"),
        help="which report",
    )
    report_parser.add_argument(
        "--period",
        required=True,
        type=arguments_of.day,
        metavar="YYYY-MM-DD",
        help="a day of the period (its week, its month)",
    )
    report_parser.add_argument(
        "--language",
        action="append",
        choices=LANGUAGES,
        help="only this language (repeatable; default all three)",
    )
    report_parser.add_argument(
        "--ministry",
        action="append",
        metavar="ID",
        help="weekly report: only this ministry (repeatable; any case)",
    )
    report_parser.add_argument(
        "--deliver", action="store_true", help="also e-mail the recipients (needs SMTP settings)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from warehouse.duck import WarehouseBusyError
    from warehouse.snapshot import SnapshotNotFoundError

    arguments = _parser().parse_args(argv)
    name = " ".join(["maglumat", arguments.command, getattr(arguments, "serving_command", "")])
    name = name.strip()
    try:
        return _dispatch(arguments)
    except (
        UsageError,
        FileNotFoundError,
        ConnectionError,
        TimeoutError,
        ValueError,
        LandingError,
        SnapshotNotFoundError,
        WarehouseBusyError,
    ) as error:
        if arguments.debug:
            raise
        print(f"{name}: {error}", file=sys.stderr)
        return 2
    except _ServingRefusedError:
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if arguments.debug:
            raise
        first_line = (str(error).strip().splitlines() or [""])[0]
        print(
            f"{name}: unexpected error ({type(error).__name__}: {first_line}); run it again"
            " with `maglumat --debug` for the traceback",
            file=sys.stderr,
        )
        return 1


def _dispatch(arguments: argparse.Namespace) -> int:
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
        return sql(
            arguments.query,
            arguments.output,
            arguments.as_of,
            arguments.max_rows,
            arguments.excel_csv,
        )
    if arguments.command == "search":
        return search(arguments.words, arguments.language, arguments.limit, arguments.as_of)
    if arguments.command == "report":
        return render_reports(
            arguments.kind,
            arguments.period,
            arguments.language,
            arguments.ministry,
            arguments.deliver,
        )
    if arguments.command == "readmit":
        from pipelines.ingest import readmit

        load = readmit(_existing_paths(), arguments.batch_id)
        print(
            f"batch {load.batch_id}: {load.status}; {load.extracted_rows} extracted ="
            f" {load.loaded_rows} loaded + {load.quarantined_rows} quarantined"
            f" + {load.held_rows} held"
        )
        return 0 if load.status != "held" else 1
    if arguments.command == "reject":
        from pipelines.ingest import reject

        rejection = reject(
            _existing_paths(),
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
    if arguments.command == "serving":
        return serving_users(
            arguments.serving_command,
            getattr(arguments, "name", None),
            getattr(arguments, "ministry", None),
        )
    return quarantine(arguments.system)


if __name__ == "__main__":
    sys.exit(main())
