"""The spine end to end: a real Dagster run over the simulated campaign database, real dbt
build, real DuckDB files; the indicators are compared with independent computations."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from pipelines.cli import main
from pipelines.landing import list_batches
from pipelines.reporting.assets import REPORT_KEYS, build_report_assets
from pipelines.resources import MaglumatResource, ReportDeliveryResource
from simulator import agriculture
from tests.support import (
    SPINE,
    expected_campaign_progress,
    failed_checks,
    materialized,
    run_daily_job,
    table_fingerprint,
)
from warehouse.snapshot import current_snapshot

pytestmark = pytest.mark.slow
AS_OF = DEFAULT_AS_OF
SYSTEM = agriculture.generate()
COTTON = ("cotton", "harvest", 2023)


@pytest.fixture
def first_run(spine_run: MaglumatPaths) -> MaglumatPaths:
    """The demo's state: the campaign database as of 1 October 2023, run once (read only)."""
    return spine_run


@pytest.fixture
def copy_of_first_run(spine_run_copy: MaglumatPaths) -> MaglumatPaths:
    return spine_run_copy


def _snapshot_rows(paths: MaglumatPaths, sql: str, parameters: list | None = None) -> list[tuple]:
    snapshot = current_snapshot(paths)
    assert snapshot is not None
    connection = duckdb.connect(str(snapshot.path), read_only=True)
    try:
        return connection.execute(sql, parameters or []).fetchall()
    finally:
        connection.close()


def _progress_by_region(paths: MaglumatPaths, campaign_id: str, report_date: dt.date) -> dict:
    rows = _snapshot_rows(
        paths,
        "select region_id, cumulative_amount, plan_amount, progress_pct"
        " from indicators.ind_campaign_progress where campaign_id = ? and report_date = ?",
        [campaign_id, report_date],
    )
    return {row[0]: row[1:] for row in rows}


def _assert_matches_independent_computation(paths: MaglumatPaths, as_of: dt.datetime) -> None:
    data_through, expected = expected_campaign_progress(SYSTEM, as_of, *COTTON)
    actual = _progress_by_region(paths, "cotton_harvest_2023", data_through)
    assert set(actual) == set(expected)
    for region, progress in expected.items():
        cumulative, plan, pct = actual[region]
        assert cumulative == pytest.approx(progress.cumulative, abs=0.01), region
        assert plan == pytest.approx(progress.plan), region
        assert pct == pytest.approx(progress.pct, abs=0.01), region


def test_indicators_match_an_independent_computation(first_run: MaglumatPaths) -> None:
    _assert_matches_independent_computation(first_run, AS_OF)
    # The published 2023 wheat order (1.4 Mt, by province) is the plan the warehouse uses.
    plans = dict(
        _snapshot_rows(
            first_run,
            "select region_id, plan_amount from indicators.ind_campaign_progress"
            " where campaign_id = 'wheat_harvest_2023' and region_level in ('province', 'country')"
            " and report_date = '2023-06-30'",
        )
    )
    assert plans == {
        "TM": 1_400_000,
        "TM-A": 400_000,
        "TM-M": 345_000,
        "TM-L": 310_000,
        "TM-D": 265_000,
        "TM-B": 80_000,
    }


def test_rate_needed_and_lagging_districts(first_run: MaglumatPaths) -> None:
    data_through, expected = expected_campaign_progress(SYSTEM, AS_OF, *COTTON)
    ((rate, days_remaining),) = _snapshot_rows(
        first_run,
        "select required_daily_rate, days_remaining from indicators.ind_campaign_progress"
        " where campaign_id = 'cotton_harvest_2023' and region_id = 'TM' and report_date = ?",
        [data_through],
    )
    assert days_remaining == (dt.date(2023, 11, 30) - data_through).days
    country = expected["TM"]
    assert rate == pytest.approx((country.plan - country.cumulative) / days_remaining, rel=1e-9)

    lagging = {
        row[0]
        for row in _snapshot_rows(
            first_run,
            "select district_code from indicators.ind_lagging_districts"
            " where campaign_id = 'cotton_harvest_2023' and report_date = ?",
            [data_through],
        )
    }
    behind = {
        region
        for region, progress in expected.items()
        if len(region) == 7 and country.pct - progress.pct > 10
    }
    assert lagging == behind
    assert lagging, "the simulated campaign has lagging districts"


def test_report_files_exist_with_the_chart(first_run: MaglumatPaths, tmp_path: Path) -> None:
    # The daily report is its own asset, partitioned by day, read from the published snapshot.
    paths = MaglumatPaths(home=tmp_path / "maglumat")
    shutil.copytree(first_run.snapshots, paths.snapshots, symlinks=True)
    (report_asset,) = [a for a in build_report_assets() if REPORT_KEYS["daily_campaign"] in a.keys]
    result = dg.materialize(
        [report_asset],
        partition_key="2023-09-30",
        resources={
            "maglumat": MaglumatResource(home=str(paths.home)),
            "report_delivery": ReportDeliveryResource(),
        },
        run_config={
            "ops": {"reports__daily_campaign": {"config": {"languages": ["tk"], "deliver": False}}}
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    folder = paths.reports / "archive" / "daily_campaign" / "2023-09-30" / "tk"
    html = (folder / "daily_campaign_2023-09-30_tk.html").read_text(encoding="utf-8")
    pdf = (folder / "daily_campaign_2023-09-30_tk.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"/Subtype /Image" in pdf
    assert "data:image/png;base64," in html
    # The lagging district the warehouse names first is in the report.
    ((first_lagging,),) = _snapshot_rows(
        first_run,
        "select district_name_tk from indicators.ind_lagging_districts"
        " where campaign_id = 'cotton_harvest_2023' and report_date = '2023-09-30'"
        " and lag_rank = 1",
    )
    assert first_lagging in html


def test_counts_reconcile_for_every_batch(first_run: MaglumatPaths) -> None:
    rows = _snapshot_rows(
        first_run,
        "select batch_id, extracted_rows, loaded_rows, quarantined_rows, held_rows"
        " from audit.batches",
    )
    assert len(rows) == 3
    for _batch, extracted, loaded, quarantined, held in rows:
        assert extracted == loaded + quarantined + held
    visible = agriculture.visible_at(SYSTEM, AS_OF)
    ((raw_reports,),) = _snapshot_rows(
        first_run, "select count(*) from raw.agriculture_campaign__daily_reports"
    )
    assert raw_reports == len(visible.daily_reports)


def test_rerun_gives_the_same_warehouse(copy_of_first_run: MaglumatPaths) -> None:
    paths = copy_of_first_run
    tables = [
        "marts.fct_campaign_daily_progress",
        "indicators.ind_campaign_progress",
        "indicators.ind_lagging_districts",
        "raw.agriculture_campaign__daily_reports",
        "raw.agriculture_campaign__farms",
    ]
    before = {table: table_fingerprint(str(paths.warehouse), table) for table in tables}
    batches_before = list_batches(paths.landing)

    result = run_daily_job(paths, SPINE)

    assert result.success
    assert list_batches(paths.landing) == batches_before, "nothing new was landed"
    after = {table: table_fingerprint(str(paths.warehouse), table) for table in tables}
    assert after == before


def test_new_reports_load_incrementally(copy_of_first_run: MaglumatPaths) -> None:
    paths = copy_of_first_run
    next_day = AS_OF + dt.timedelta(days=1)
    added = agriculture.write(
        f"sqlite:///{paths.systems}/agriculture_campaign.sqlite", SYSTEM, next_day
    )
    assert added["daily_reports"] > 0
    assert added["farms"] == 0
    landed_before = {m.batch_id for m in list_batches(paths.landing)}

    result = run_daily_job(paths, SPINE)

    assert result.success
    new_batches = [m for m in list_batches(paths.landing) if m.batch_id not in landed_before]
    assert [(m.table, m.row_count) for m in new_batches] == [
        ("daily_reports", added["daily_reports"])
    ]
    assert new_batches[0].cursor_from == "2023-10-01 05:59:00"
    _assert_matches_independent_computation(paths, next_day)


def _add_reports(paths: MaglumatPaths, rows: list[tuple]) -> None:
    database = sqlite3.connect(paths.systems / "agriculture_campaign.sqlite")
    with database:
        database.executemany(
            "insert into daily_reports values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    database.close()


def test_bad_rows_are_quarantined_and_a_bad_batch_is_held(
    copy_of_first_run: MaglumatPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = copy_of_first_run
    next_day = AS_OF + dt.timedelta(days=1)
    added = agriculture.write(
        f"sqlite:///{paths.systems}/agriculture_campaign.sqlite", SYSTEM, next_day
    )
    _add_reports(
        paths,
        [
            (
                900001,
                "TM-X-99",
                "cotton",
                "harvest",
                "2023-09-30",
                0,
                10,
                20,
                "?",
                "2023-10-02 04:00:00",
            ),
            (
                900002,
                "TM-A-01",
                "cotton",
                "harvest",
                "2023-09-30",
                0,
                10,
                -20,
                "?",
                "2023-10-02 04:01:00",
            ),
        ],
    )

    result = run_daily_job(paths, SPINE)

    assert result.success
    assert failed_checks(result) == []
    # The gate check shows the steward the failing rows and the batch's validation page.
    (gate,) = [
        evaluation
        for evaluation in result.get_asset_check_evaluations()
        if evaluation.asset_key.to_user_string() == "raw/agriculture_campaign__daily_reports__raw"
    ]
    failing = gate.metadata["failing_rows"].value
    assert "| district_code | TM-X-99 | expect_column_values_to_be_in_set |" in failing
    assert "| harvested_tonnes | -20.0 | expect_column_values_to_be_between |" in failing
    assert gate.metadata["validation_page"].value.endswith(".html")
    assert Path(gate.metadata["validation_page"].value).exists()
    quarantined = _snapshot_rows(
        paths,
        "select row_number, rule, field, value from audit.quarantine order by value",
    )
    assert {(rule, field, value) for _, rule, field, value in quarantined} == {
        ("expect_column_values_to_be_in_set", "district_code", "TM-X-99"),
        ("expect_column_values_to_be_between", "harvested_tonnes", "-20.0"),
    }
    ((extracted, loaded, in_quarantine),) = _snapshot_rows(
        paths,
        "select extracted_rows, loaded_rows, quarantined_rows from audit.batches"
        " where table_name = 'daily_reports' order by batch_id desc limit 1",
    )
    assert (extracted, loaded, in_quarantine) == (
        added["daily_reports"] + 2,
        added["daily_reports"],
        2,
    )
    good_snapshot = current_snapshot(paths)
    assert good_snapshot is not None

    # Now the ministry's system changes shape: the next batch drifts from the contract.
    database = sqlite3.connect(paths.systems / "agriculture_campaign.sqlite")
    with database:
        database.execute("alter table daily_reports add column moisture_pct real")
    database.close()
    agriculture.write(
        f"sqlite:///{paths.systems}/agriculture_campaign.sqlite",
        SYSTEM,
        next_day + dt.timedelta(days=1),
    )

    held_run = run_daily_job(paths, SPINE)

    assert failed_checks(held_run) == ["raw/agriculture_campaign__daily_reports__raw:quality_gate"]
    assert "snapshot/warehouse" not in materialized(held_run)
    assert "reports/daily_campaign" not in materialized(held_run)
    still = current_snapshot(paths)
    assert still is not None
    assert still.snapshot_id == good_snapshot.snapshot_id
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        ((status, summary, held_rows, loaded_rows),) = connection.execute(
            "select status, gate_summary, held_rows, loaded_rows from audit.batches"
            " where table_name = 'daily_reports' order by batch_id desc limit 1"
        ).fetchall()
    finally:
        connection.close()
    assert status == "held"
    assert loaded_rows == 0
    assert held_rows > 0
    assert "unexpected columns ['moisture_pct']" in summary

    # The data steward's view names the batch, the file, the row, the field and the value.
    assert main(["quarantine"]) == 0
    listing = capsys.readouterr().out
    assert "Held batches: 1" in listing
    assert "unexpected columns ['moisture_pct']" in listing
    assert "Quarantined rows: 2" in listing
    assert "district_code = 'TM-X-99' fails expect_column_values_to_be_in_set" in listing
    bad_row = next(row for row, _, field, _ in quarantined if field == "district_code")
    # The row is named as the source knows it too: by its business key.
    assert f"row {bad_row} (district_code=TM-X-99, crop=" in listing
