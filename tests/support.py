"""Helpers for tests that run the whole pipeline, and the independent computations they check
the warehouse against (plain Python over the simulator's records, no SQL)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths
from pipelines.assets.transform import dbt_executable
from pipelines.definitions import DAILY_JOB, build_definitions
from pipelines.reporting.assets import REPORT_KEYS
from pipelines.resources import MaglumatResource
from simulator import agriculture, processing
from warehouse.raw import ensure_audit_schema
from warehouse.snapshot import publish

# The spine's tests extract and load only the campaign database; the other sectors' raw tables
# stay empty (they are tested in tests/sectors and by the all-sector run).
SPINE = ["agriculture_campaign"]


def run_daily_job(
    paths: MaglumatPaths, systems: list[str] | None = None, *, dbt_full_build: bool = False
) -> dg.ExecuteInProcessResult:
    """A real Dagster run of the daily job, on an ephemeral instance.

    With ``systems``, only those systems are extracted and loaded (the others are left out of
    the run, as if they had not delivered); dbt, publishing and reports run as always.
    """
    definitions = build_definitions(
        MaglumatResource(home=str(paths.home), dbt_full_build=dbt_full_build)
    )
    job = definitions.resolve_job_def(DAILY_JOB)
    instance = dg.DagsterInstance.ephemeral()
    if systems is None:
        return job.execute_in_process(instance=instance, raise_on_error=False)
    left_out = {
        key
        for key in definitions.resolve_asset_graph().get_all_asset_keys()
        if key.path[0] in ("landing", "raw")
        and not any(key.path[-1].startswith(f"{system}__") for system in systems)
    }
    # The report assets are partitioned and not part of the daily job: leave them out too.
    selection = (
        dg.AssetSelection.all()
        - dg.AssetSelection.assets(*left_out)
        - dg.AssetSelection.assets(*REPORT_KEYS.values())
    )
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        asset_selection=list(selection.resolve(definitions.resolve_asset_graph())),
    )


def failed_checks(
    result: dg.ExecuteInProcessResult, *, warnings: bool = False, system: str | None = None
) -> list[str]:
    """Failed checks as ``asset:check``: errors only (those that block), unless ``warnings``;
    only those of one system's assets when ``system`` is given."""
    return [
        f"{e.asset_check_key.asset_key.to_user_string()}:{e.asset_check_key.name}"
        for e in result.get_asset_check_evaluations()
        if not e.passed
        and (warnings or e.severity == dg.AssetCheckSeverity.ERROR)
        and (system is None or f"/{system}__" in e.asset_check_key.asset_key.to_user_string())
    ]


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        event.asset_key.to_user_string()
        for event in result.get_asset_materialization_events()
        if event.asset_key
    }


@dataclass(frozen=True)
class Progress:
    cumulative: float
    plan: float

    @property
    def pct(self) -> float:
        return round(100.0 * self.cumulative / self.plan, 2)


def expected_campaign_progress(
    system: agriculture.CampaignSystem,
    as_of: dt.datetime,
    crop: str,
    operation: str,
    order_year: int,
) -> tuple[dt.date, dict[str, Progress]]:
    """Progress by region (districts, provinces, 'TM') on the last reported day, computed from
    the records the campaign database held at ``as_of``: latest correction wins, latest version
    of the state order is the plan."""
    visible = agriculture.visible_at(system, as_of)
    latest: dict[tuple[str, str, str, str], agriculture.DailyReport] = {}
    for report in sorted(visible.daily_reports, key=lambda r: (r.submitted_at, r.report_id)):
        if report.crop == crop and report.operation == operation:
            latest[(report.district_code, report.crop, report.operation, report.report_date)] = (
                report
            )
    data_through = max(dt.date.fromisoformat(key[3]) for key in latest)
    done: dict[str, float] = defaultdict(float)
    for (district, *_), report in latest.items():
        amount = report.sown_ha if operation == "sowing" else report.harvested_tonnes
        for region in (district, district[:4], "TM"):
            done[region] += amount
    orders: dict[str, agriculture.StateOrder] = {}
    for order in sorted(visible.state_orders, key=lambda o: o.version):
        if order.order_year == order_year and order.crop == crop:
            orders[order.district_code] = order
    plan: dict[str, float] = defaultdict(float)
    for district, order in orders.items():
        amount = order.plan_area_ha if operation == "sowing" else order.plan_tonnes
        for region in (district, district[:4], "TM"):
            plan[region] += amount
    return data_through, {region: Progress(done[region], plan[region]) for region in plan}


def table_fingerprint(database: str, table: str) -> list[tuple]:
    connection = duckdb.connect(database, read_only=True)
    try:
        return connection.execute(f"select * from {table} order by all").fetchall()
    finally:
        connection.close()


def run_dbt(
    paths: MaglumatPaths, arguments: list[str], scratch: Path
) -> subprocess.CompletedProcess[str]:
    """dbt against the warehouse of ``paths``, with its own target and log folders under
    ``scratch`` (so parallel invocations never share a manifest)."""
    return subprocess.run(
        [
            dbt_executable(),
            *arguments,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(scratch / "dbt-target"),
            "--log-path",
            str(scratch / "dbt-logs"),
        ],
        env={**os.environ, "MAGLUMAT_HOME": str(paths.home)},
        capture_output=True,
        text=True,
        check=False,
    )


def duckdb_rows(database: Path, sql: str, parameters: list[Any] | None = None) -> list[tuple]:
    """The rows of ``sql`` on the DuckDB file ``database``, opened read-only."""
    connection = duckdb.connect(str(database), read_only=True)
    try:
        return connection.execute(sql, parameters or []).fetchall()
    finally:
        connection.close()


def latest_build_tests(warehouse: Path) -> list[tuple[str, str | None, str, int | None]]:
    """(test name, tested model, status, failing rows) of each dbt test the latest build ran,
    as ``audit.dbt_test_results`` keeps them."""
    return duckdb_rows(
        warehouse,
        "select test_name, model, status, failures from audit.dbt_test_results"
        " where build_number = (select max(build_number) from audit.dbt_builds)"
        " order by test_name",
    )


BUILT_INDICATORS = pytest.StashKey[tuple[Path, Path]]()


def built_indicators(
    config: pytest.Config, all_sectors: MaglumatPaths, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """A copy of the warehouse of a real run over all ten sectors, with the indicator layer
    built and tested again and the docs generated; returns the warehouse file and the dbt
    target folder. Built once a session (its readers only read it), by the first to ask."""
    if BUILT_INDICATORS not in config.stash:
        scratch = tmp_path_factory.mktemp("indicators")
        home = scratch / "home"
        (home / "warehouse").mkdir(parents=True)
        warehouse = home / "warehouse" / "warehouse.duckdb"
        shutil.copyfile(all_sectors.warehouse, warehouse)
        selection = [
            "--select",
            "path:models/intermediate/agriculture",
            "path:models/intermediate/processing",
            "path:models/intermediate/fuel_energy",
            "path:models/intermediate/transport",
            "path:models/intermediate/data_quality",
            "path:models/intermediate/indicators",
            "path:models/indicators",
            "path:tests/assert_indicator_*",
        ]
        paths = MaglumatPaths(home=home)
        result = run_dbt(paths, ["build", *selection], scratch)
        assert result.returncode == 0, result.stdout[-4000:]
        docs = run_dbt(paths, ["docs", "generate"], scratch)
        assert docs.returncode == 0, docs.stdout[-4000:]
        config.stash[BUILT_INDICATORS] = warehouse, scratch / "dbt-target"
    return config.stash[BUILT_INDICATORS]


def dbt_build(paths: MaglumatPaths, selection: list[str], scratch: Path) -> None:
    """``dbt build`` of some models against the warehouse of ``paths``."""
    result = run_dbt(
        paths, ["build", "--indirect-selection", "cautious", "--select", *selection], scratch
    )
    assert result.returncode == 0, result.stdout[-4000:]


def write_answer(paths: MaglumatPaths, value: int) -> None:
    """A one-row table, ``marts.answer``, holding ``value``: what a test reads back to tell
    snapshots apart."""
    connection = duckdb.connect(str(paths.warehouse))
    try:
        ensure_audit_schema(connection)
        connection.execute("create schema if not exists marts")
        connection.execute("create or replace table marts.answer as select ? as value", [value])
    finally:
        connection.close()


KEEP_EVERYTHING = 100 * 365  # days: the backdated snapshots stay until the test prunes them


def publish_answer_at(paths: MaglumatPaths, value: int, published: dt.datetime | None) -> str:
    """Publish a snapshot holding ``value``; ``published`` backdates it (a snapshot id is its
    UTC publishing time)."""
    write_answer(paths, value)
    snapshot = publish(paths, retention_days=KEEP_EVERYTHING)
    if published is None:
        return snapshot.snapshot_id
    backdated = published.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    (paths.snapshots / snapshot.snapshot_id).rename(paths.snapshots / backdated)
    return backdated


def age_file(path: Path, seconds: float) -> None:
    """Make ``path`` look written ``seconds`` earlier than it was, by the file system's own clock
    (its mtime), so a test never reads the wall clock to say a file has settled."""
    written = path.stat().st_mtime
    os.utime(path, (written - seconds, written - seconds))


def expected_processing_months(
    system: processing.ProcessingSystem, as_of: dt.datetime
) -> dict[tuple[str, str, str], tuple[float | None, float]]:
    """(plant, product, YYYY-MM) -> (plan in force, output), latest entry of each day winning."""
    visible = processing.visible_at(system, as_of)
    latest: dict[tuple[str, str, str], processing.DailyOutput] = {}
    for record in sorted(visible.daily_output, key=lambda r: (r.entered_at, r.record_id)):
        latest[(record.plant_code, record.product_code, record.output_date)] = record
    through = max(key[2] for key in latest)[:7]
    output: dict[tuple[str, str, str], float] = defaultdict(float)
    for (plant, product, day), record in latest.items():
        output[(plant, product, day[:7])] += record.quantity_tonnes
    plans: dict[tuple[str, str, str], processing.MonthlyPlan] = {}
    for plan in sorted(visible.monthly_plans, key=lambda p: (p.version, p.updated_at)):
        month = f"{plan.plan_year}-{plan.plan_month:02d}"
        if month <= through:
            plans[(plan.plant_code, plan.product_code, month)] = plan
    return {
        key: (plans[key].plan_tonnes if key in plans else None, output.get(key, 0.0))
        for key in output.keys() | plans.keys()
    }
