"""Commands that run: simulate the sector systems, parse the dbt project, run the daily job,
the demo."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from maglumat.settings import DBT_PROJECT_DIR
from pipelines.commands.home import (
    as_of_or_default,
    dagster_home,
    home_paths,
    progress_config,
    relative,
    seed_or_default,
)
from pipelines.commands.reports import demo_reports


def simulate(as_of: dt.datetime | None, seed: int | None) -> None:
    from simulator import simulate_all

    paths = home_paths()
    moment = as_of_or_default(as_of)
    for sector, added in simulate_all(paths, moment, seed_or_default(seed)).items():
        summary = ", ".join(f"{table} +{count}" for table, count in added.items())
        print(f"[simulate] {sector} as of {moment.isoformat()}: {summary}")


def prepare() -> None:
    """Parse the dbt project once, so Dagster can build its assets from the manifest."""
    from dagster_dbt import DbtCliResource
    from dagster_dbt.errors import DagsterDbtCliRuntimeError

    from pipelines.assets.transform import DBT_PROJECT, dbt_executable

    home_paths()
    project = Path(DBT_PROJECT.project_dir)
    print("[prepare] parsing the dbt project")
    try:
        DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable()).cli(
            ["parse", "--quiet"], target_path=DBT_PROJECT.target_path
        ).wait()
    except DagsterDbtCliRuntimeError as error:
        raise ValueError(
            f"the dbt project in {relative(project)} does not parse: {dbt_error(error)}"
            f" (dbt's log: {relative(project / 'target' / 'dbt.log')})"
        ) from error


def dbt_error(error: Exception) -> str:
    """dbt's own words from a failed invocation, on one line."""
    text = str(error)
    _, found, parsed = text.partition("Errors parsed from dbt logs:")
    lines = [
        line.strip()
        for line in (parsed if found else text).splitlines()
        if line.strip() and line.strip() != "Encountered an error:"
    ]
    return ": ".join(lines[:2]) or type(error).__name__


def run_pipeline(
    simulated: bool = False,
    as_of: dt.datetime | None = None,
    seed: int | None = None,
    *,
    full_rebuild: bool = False,
) -> int:
    """Run the daily job end to end on this machine's Dagster instance; 0 when all is green.

    With ``simulated``, the simulated network services (the HTTP APIs) run for the duration;
    with ``full_rebuild``, dbt rebuilds every model in full instead of what the day brought.
    """
    import dagster as dg
    import duckdb

    if simulated:
        from simulator import serving_all

        with serving_all(home_paths(), as_of_or_default(as_of), seed_or_default(seed)) as served:
            if served:
                print(f"[run] simulated services up: {', '.join(served)}")
            return run_pipeline(simulated=False, full_rebuild=full_rebuild)

    from maglumat import clock
    from pipelines.dbt_plan import parse_is_current
    from pipelines.dbt_tests import latest_build_test_counts
    from pipelines.progress import (
        elapsed_since,
        new_log_path,
        quiet_run,
        stage_figures,
        with_test_counts,
    )
    from pipelines.progress import stage_lines as lines_of
    from warehouse.duck import read_only_connection

    started = time.perf_counter()
    paths = home_paths()
    dagster_home(paths)
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists() or not parse_is_current(manifest, DBT_PROJECT_DIR):
        # After an upgrade the parse is older than the project: the definitions would not
        # know the new models dbt is about to build. Parsed before the definitions are
        # imported, which read the manifest once per process.
        prepare()
    from pipelines.definitions import DAILY_JOB, build_definitions
    from pipelines.resources import MaglumatResource

    resource = MaglumatResource(dbt_full_build=True) if full_rebuild else None
    job = build_definitions(resource).resolve_job_def(DAILY_JOB)
    log_path = new_log_path(paths.home / "logs", clock.now())
    print("[run] extract -> land -> quality gate -> raw -> dbt -> snapshot")
    with quiet_run(log_path), dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=progress_config(log_path, len(job.graph.nodes)),
        )
    figures = stage_figures(result)
    try:  # the build's own record of its tests; another writer may hold the file meanwhile
        connection = read_only_connection(paths.warehouse)
        try:
            figures = with_test_counts(figures, latest_build_test_counts(connection))
        finally:
            connection.close()
    except duckdb.Error:
        pass
    for line in lines_of(figures):
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
        print(f"[run] full log: {relative(log_path)}")
        return 1
    print(f"[run] run {result.run_id} succeeded in {elapsed_since(started)}")
    print(f"[run] full log: {relative(log_path)}")
    return 0


def summary() -> None:
    from warehouse.snapshot import current_snapshot

    paths = home_paths()
    snapshot = current_snapshot(paths)
    reports = sorted(paths.reports.glob("archive/*/*/**/*.pdf"))
    print()
    print("Maglumat demo is ready.")
    print(f"  warehouse (pipeline only): {relative(paths.warehouse)}")
    if snapshot:
        current = paths.snapshots / "current" / "warehouse.duckdb"
        print(f"  published snapshot:        {relative(current)} ({snapshot.snapshot_id})")
    if reports:
        print(f"  reports (PDF, HTML, XLSX): {relative(paths.reports / 'archive')}")
        for kind in ("daily_campaign", "weekly_ministry", "monthly_government"):
            pdfs = [path for path in reports if path.name.startswith(f"{kind}_")]
            if pdfs:
                print(f"    {kind + ':':27}{relative(pdfs[-1])} ({len(pdfs)} PDFs)")
    print(f"  quality gate results:      {relative(paths.quality_results)}")
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


def demo(as_of: dt.datetime | None, seed: int | None) -> int:
    simulate(as_of, seed)
    prepare()
    status = run_pipeline(simulated=True, as_of=as_of, seed=seed)
    if status == 0:
        status = demo_reports(as_of_or_default(as_of))
    summary()
    return status
