"""The ``maglumat`` command: simulate, run the pipeline, and read what it produced."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path

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
    print("[run] extract -> land -> quality gate -> raw -> dbt -> snapshot -> report")
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
    reports = sorted(paths.reports.glob("daily_campaign/*/*.pdf"))
    print()
    print("Maglumat demo is ready.")
    print(f"  warehouse (pipeline only): {_relative(paths.warehouse)}")
    if snapshot:
        current = paths.snapshots / "current" / "warehouse.duckdb"
        print(f"  published snapshot:        {_relative(current)} ({snapshot.snapshot_id})")
    if reports:
        print(f"  daily campaign report:     {_relative(reports[-1])}")
        print(f"                             {_relative(reports[-1].with_suffix('.html'))}")
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


def demo(as_of: str | None, seed: int | None) -> int:
    simulate(as_of, seed)
    prepare()
    status = run_pipeline(simulated=True, as_of=as_of, seed=seed)
    summary()
    return status


def sql(query: str, csv_path: str | None) -> int:
    import polars as pl

    from warehouse.snapshot import open_current

    connection = open_current(_paths())
    try:
        frame = connection.execute(query).pl()
    finally:
        connection.close()
    if csv_path:
        frame.write_csv(csv_path)
        print(f"{frame.height} rows written to {csv_path}")
        return 0
    with pl.Config(tbl_rows=50, tbl_cols=20, fmt_str_lengths=40, tbl_width_chars=160):
        print(frame)
    return 0


def quarantine(system: str | None) -> int:
    """Held batches and quarantined rows, from the warehouse's audit (held batches never reach a
    snapshot, so this reads the pipeline's file, briefly, under the writer lock)."""
    import duckdb

    from warehouse.duck import writer_lock

    paths = _paths()
    if not paths.warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {paths.warehouse}: run the pipeline first")
    with writer_lock(paths.warehouse, timeout_seconds=60):
        connection = duckdb.connect(str(paths.warehouse), read_only=True)
        try:
            held = connection.execute(
                "select batch_id, system, table_name, gate_summary, gate_report"
                " from audit.batches where status = 'held' and (? is null or system = ?)"
                " order by batch_id",
                [system, system],
            ).fetchall()
            rows = connection.execute(
                "select q.system, q.table_name, coalesce(b.source_file, q.landed_file),"
                " q.row_number, q.rule, q.field, q.value"
                " from audit.quarantine as q"
                " inner join audit.batches as b on q.batch_id = b.batch_id"
                " where ? is null or q.system = ?"
                " order by q.system, q.table_name, q.batch_id, q.row_number",
                [system, system],
            ).fetchall()
        finally:
            connection.close()
    print(f"Held batches: {len(held)}")
    for batch_id, system_name, table, reason, report in held:
        print(f"  {system_name}.{table} {batch_id}: {reason}\n    report: {report}")
    print(f"Quarantined rows: {len(rows)}")
    for system_name, table, landed_file, row_number, rule, field, value in rows:
        where = f"{system_name}.{table} {landed_file} row {row_number}"
        print(f"  {where}: {field} = {value!r} fails {rule}")
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
    sql_parser.add_argument("--csv", help="write the result to this CSV file")
    readmit_parser = commands.add_parser(
        "readmit", help="gate and load a landed batch again (after its suite or data was fixed)"
    )
    readmit_parser.add_argument("batch_id")
    reject_parser = commands.add_parser(
        "reject", help="keep a held batch out for good, releasing its table"
    )
    reject_parser.add_argument("batch_id")
    reject_parser.add_argument("--reason", required=True)
    quarantine_parser = commands.add_parser(
        "quarantine", help="list held batches and quarantined rows"
    )
    quarantine_parser.add_argument("--system")
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
            return sql(arguments.query, arguments.csv)
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

            reject(_paths(), arguments.batch_id, arguments.reason)
            print(f"batch {arguments.batch_id} rejected; it stays in the landing zone")
            return 0
        return quarantine(arguments.system)
    except (FileNotFoundError, ConnectionError, ValueError) as error:
        print(f"maglumat: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
