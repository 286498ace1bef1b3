"""The daily dbt build rebuilds only what is downstream of changed sources, and what it
leaves alone is exactly what a full build would have produced."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths
from pipelines.assets.sources import GATE_CHECK, ON_TIME_CHECK, REACHABLE_CHECK
from pipelines.assets.transform import manifest_path
from pipelines.dbt_plan import plan_build, project_settings
from simulator import agriculture
from tests.support import (
    SPINE,
    latest_build_tests,
    run_daily_job,
    run_dbt,
    table_fingerprint,
)

pytestmark = pytest.mark.slow
AS_OF = DEFAULT_AS_OF
# Built from the campaign reports, and from nothing the campaign database feeds.
CAMPAIGN_TABLES = [
    "marts.fct_campaign_daily_progress",
    "indicators.ind_campaign_progress",
    "indicators.fct_indicator_values",
]
NOT_FROM_THE_CAMPAIGN = ["marts.dim_dates", "marts.fct_processing_output_monthly"]


def _builds(paths: MaglumatPaths) -> list[tuple[str, str]]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return connection.execute(
            "select selection, reason from audit.dbt_builds"
            " where status = 'succeeded' order by build_number"
        ).fetchall()
    finally:
        connection.close()


def _latest_test_results(paths: MaglumatPaths) -> list[tuple[str, str | None, str]]:
    """(test name, tested model, status) of each dbt test the latest build ran."""
    return [(name, model, status) for name, model, status, _ in latest_build_tests(paths.warehouse)]


def _rebuilt_flags(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    """For each dbt asset materialized in the run: rebuilt (True) or reported unchanged."""
    flags: dict[str, bool] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
        if materialization.asset_key.path[0] in {"landing", "raw", "snapshot", "serving"}:
            continue
        rebuilt = materialization.metadata.get("rebuilt")
        flags[materialization.asset_key.to_user_string()] = rebuilt is None or bool(
            getattr(rebuilt, "value", rebuilt)
        )
    return flags


def test_a_run_with_nothing_new_rebuilds_nothing(spine_run_copy: MaglumatPaths) -> None:
    paths = spine_run_copy
    before = {table: table_fingerprint(str(paths.warehouse), table) for table in CAMPAIGN_TABLES}

    result = run_daily_job(paths, SPINE)

    assert result.success
    flags = _rebuilt_flags(result)
    assert flags["indicators/fct_indicator_values"] is False
    assert not any(flags.values()), [key for key, rebuilt in flags.items() if rebuilt]
    assert _builds(paths)[-1] == ("nothing", "no source changed since the last successful build")
    assert _latest_test_results(paths) == []
    after = {table: table_fingerprint(str(paths.warehouse), table) for table in CAMPAIGN_TABLES}
    assert after == before


def test_a_new_day_rebuilds_its_descendants_as_a_full_build_would(
    spine_run_copy: MaglumatPaths,
) -> None:
    paths = spine_run_copy
    agriculture.write(
        f"sqlite:///{paths.systems}/agriculture_campaign.sqlite",
        agriculture.generate(),
        AS_OF + dt.timedelta(days=1),
    )
    untouched = {
        table: table_fingerprint(str(paths.warehouse), table) for table in NOT_FROM_THE_CAMPAIGN
    }

    result = run_daily_job(paths, SPINE)

    assert result.success
    flags = _rebuilt_flags(result)
    assert flags["marts/fct_campaign_daily_progress"] is True
    assert flags["indicators/fct_indicator_values"] is True
    assert flags["marts/dim_dates"] is False
    assert flags["marts/fct_processing_output_monthly"] is False
    selection, reason = _builds(paths)[-1]
    assert "source:agriculture_campaign.daily_reports+" in selection.split()
    assert "source:audit.batches+" in selection.split()
    assert "agriculture_campaign.daily_reports" in reason
    # The dbt tests of a rebuilt model ran, also those that reach a model left alone, and the
    # build kept their results; a model left alone had its tests left alone too.
    tested = _latest_test_results(paths)
    assert any(
        model == "marts.fct_campaign_daily_progress"
        and name.startswith("relationships")
        and status == "pass"
        for name, model, status in tested
    ), tested[:20]
    assert not any(model == "marts.fct_processing_output_monthly" for _, model, _ in tested)
    partial = {table: table_fingerprint(str(paths.warehouse), table) for table in CAMPAIGN_TABLES}
    for table, rows in untouched.items():
        assert table_fingerprint(str(paths.warehouse), table) == rows, table

    full = run_daily_job(paths, SPINE, dbt_full_build=True)

    assert full.success
    assert all(_rebuilt_flags(full).values())
    assert _builds(paths)[-1] == ("every model and test", "a full build was asked for")
    # Every data test ran and passed, and kept its result; only the singular tests (the
    # project's tests/ folder) are Dagster checks, beside the gates and the source checks.
    manifest = json.loads(Path(manifest_path()).read_text())
    data_tests = {
        node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "test"
    }
    tested = _latest_test_results(paths)
    assert {name for name, _, _ in tested} == data_tests
    assert {status for _, _, status in tested} <= {"pass", "warn"}
    singular = {path.stem for path in (Path(DBT_PROJECT_DIR) / "tests").glob("*.sql")}
    evaluated = {evaluation.check_name for evaluation in full.get_asset_check_evaluations()}
    assert evaluated - {GATE_CHECK, REACHABLE_CHECK, ON_TIME_CHECK} <= singular
    assert "assert_province_progress_is_sum_of_districts" in evaluated
    rebuilt = {table: table_fingerprint(str(paths.warehouse), table) for table in CAMPAIGN_TABLES}
    assert rebuilt == partial


def test_a_changed_project_means_a_full_build(spine_run_copy: MaglumatPaths) -> None:
    manifest = json.loads(Path(manifest_path()).read_text())
    connection = duckdb.connect(str(spine_run_copy.warehouse))
    try:
        settings = project_settings(DBT_PROJECT_DIR)
        assert plan_build(connection, manifest, settings=settings).is_empty
        changed_vars = plan_build(connection, manifest, settings=settings + b"\nvars: {x: 1}")
        stale_parse = plan_build(connection, manifest, settings=settings, parse_current=False)
        model = manifest["nodes"]["model.maglumat.fct_campaign_daily_progress"]
        model["raw_code"] += "\n-- a changed line"
        plan = plan_build(connection, manifest, settings=settings)
    finally:
        connection.close()
    assert plan.is_full
    assert plan.reason == "the dbt project changed since the last build"
    assert changed_vars.is_full
    assert stale_parse.is_full
    assert "older than its files" in stale_parse.reason


def test_a_failed_build_makes_the_next_one_full(spine_run_copy: MaglumatPaths) -> None:
    """dbt writes tables until its first failure: a build that did not finish is no base."""
    manifest = json.loads(Path(manifest_path()).read_text())
    settings = project_settings(DBT_PROJECT_DIR)
    connection = duckdb.connect(str(spine_run_copy.warehouse))
    try:
        connection.execute(
            "update audit.dbt_builds set status = 'running', finished_at = null"
            " where build_number = (select max(build_number) from audit.dbt_builds)"
        )
        plan = plan_build(connection, manifest, settings=settings)
    finally:
        connection.close()
    assert plan.is_full
    assert plan.reason.startswith("the last build did not succeed (running)")


def test_dbt_unit_tests_pass(spine_run_copy: MaglumatPaths, tmp_path: Path) -> None:
    """The SQL's unit tests (fixtures in, rows out) are left out of the production build; they
    run here, against a built warehouse (dbt reads the input models' column types from it)."""
    result = run_dbt(spine_run_copy, ["test", "--select", "test_type:unit"], tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    unit_tests = len(json.loads(Path(manifest_path()).read_text())["unit_tests"])
    assert unit_tests > 0
    results = json.loads((tmp_path / "dbt-target" / "run_results.json").read_text())["results"]
    passed = [
        r for r in results if r["unique_id"].startswith("unit_test.") and r["status"] == "pass"
    ]
    assert len(passed) == unit_tests, result.stdout[-2000:]
