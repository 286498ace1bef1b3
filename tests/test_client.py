"""The economists' Python API: read-only snapshot connections, the catalogue and indicator
values as polars frames, the snapshot in force at a date, and reads during a running load."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from maglumat import clock
from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import DBT_PROJECT_DIR, PROJECT_ROOT, MaglumatPaths
from simulator import agriculture
from tests.support import (
    expected_campaign_progress,
    publish_answer_at,
    write_answer,
)
from warehouse.client import Warehouse
from warehouse.snapshot import SnapshotNotFoundError, list_snapshots, publish

AS_OF = DEFAULT_AS_OF


def _indicator_entries() -> list[dict]:
    entries = []
    for path in sorted((DBT_PROJECT_DIR / "indicators").glob("*.yml")):
        entries.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["indicators"])
    return entries


def _model_docs(relative_path: str) -> dict:
    """The dbt YAML of one model: its description and its columns' descriptions."""
    model = yaml.safe_load((DBT_PROJECT_DIR / relative_path).read_text(encoding="utf-8"))
    entry = model["models"][0]
    return {
        "description": " ".join(entry["description"].split()),
        "columns": {c["name"]: " ".join(c["description"].split()) for c in entry["columns"]},
    }


def test_queries_cannot_write_copy_out_read_files_or_unlock(
    spine_run: MaglumatPaths, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    refused = [
        f"copy (select * from marts.dim_regions) to '{outside}.csv'",
        f"copy marts.dim_regions to '{outside}.parquet' (format parquet)",
        f"export database '{outside}'",
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/hostname')",
        f"attach '{outside}.duckdb' as elsewhere",
        "attach ':memory:' as scratch",
        "install postgres",
        "load postgres",
        "set enable_external_access = true",
        "set lock_configuration = false",
        "create table marts.mine as select 1 as one",
        "insert into marts.dim_regions (region_id) values ('XX')",
        "drop table marts.dim_regions",
    ]
    # a second reader of the same snapshot in the same process shares DuckDB's instance: it
    # must be as locked as the first
    with Warehouse(spine_run.home) as first, Warehouse(spine_run.home) as second:
        for warehouse in (first, second):
            regions_before = warehouse.sql("select count(*) as n from marts.dim_regions")
            for statement in refused:
                with pytest.raises(duckdb.Error):
                    warehouse.sql(statement)
            after = warehouse.sql("select count(*) as n from marts.dim_regions")
            assert after.equals(regions_before)
    assert list(tmp_path.iterdir()) == [], "nothing was written outside the snapshot"


def test_the_catalogue_in_three_languages(spine_run: MaglumatPaths) -> None:
    entries = {entry["id"]: entry for entry in _indicator_entries()}
    with Warehouse(spine_run.home) as warehouse:
        catalogue = warehouse.indicators()
        agriculture_only = warehouse.indicators(sector="agriculture")
        with pytest.raises(ValueError, match="did you mean agr_campaign_progress_pct"):
            warehouse.indicator("agr_campaign_progress")
    assert isinstance(catalogue, pl.DataFrame)
    assert sorted(catalogue["indicator_id"]) == sorted(entries)
    for row in catalogue.iter_rows(named=True):
        entry = entries[row["indicator_id"]]
        for language in ("tk", "ru", "en"):
            assert row[f"name_{language}"] == entry["name"][language]
        assert row["unit"] == entry["unit"]
    assert set(agriculture_only["sector"]) == {"agriculture"}
    assert agriculture_only.height == sum(e["sector"] == "agriculture" for e in entries.values())


def test_indicator_values_match_an_independent_computation(spine_run: MaglumatPaths) -> None:
    data_through, expected = expected_campaign_progress(
        agriculture.generate(), AS_OF, "cotton", "harvest", 2023
    )
    provinces = {region: p for region, p in expected.items() if region.count("-") == 1}
    with Warehouse(spine_run.home) as warehouse:
        values = warehouse.indicator(
            "agr_campaign_progress_pct",
            level="province",
            period_type="day",
            start=data_through,
            end=data_through.isoformat(),
            breakdown="cotton_harvest_2023",
        )
        one_province = warehouse.indicator(
            "agr_campaign_progress_pct",
            region="TM-A",
            period_type="day",
            breakdown="cotton_harvest_2023",
        )
    assert sorted(values["region_id"]) == sorted(provinces)
    assert set(values["unit"]) == {"%"}
    assert values["enterprise_id"].null_count() == values.height, "region totals only"
    for row in values.iter_rows(named=True):
        assert row["value"] == pytest.approx(provinces[row["region_id"]].pct, abs=0.01)
        assert row["region_name_en"]
    assert set(one_province["region_id"]) == {"TM-A"}
    assert one_province["period_start"].max() == data_through
    assert one_province["period_start"].is_sorted()


def test_tables_and_columns_carry_the_dbt_descriptions(spine_run: MaglumatPaths) -> None:
    values_docs = _model_docs("models/indicators/fct_indicator_values.yml")
    with Warehouse(spine_run.home) as warehouse:
        tables = warehouse.tables()
        columns = warehouse.columns("fct_indicator_values", schema="indicators")
        seed_columns = warehouse.columns("ref_provinces", schema="reference")
        snapshot_batches = warehouse.sql("select batch_id from audit.batches order by batch_id")
        info = warehouse.snapshot_info
    described = {
        (row["schema_name"], row["table_name"]): row["description"]
        for row in tables.iter_rows(named=True)
    }
    assert described[("indicators", "fct_indicator_values")] == values_docs["description"]
    # raw tables are dbt sources: their descriptions live only in dbt's manifest
    assert described[("raw", "agriculture_campaign__daily_reports")]
    assert ("docs", "tables") not in described
    by_name = {row["column_name"]: row for row in columns.iter_rows(named=True)}
    assert list(by_name) == list(values_docs["columns"])
    for name, description in values_docs["columns"].items():
        assert by_name[name]["description"] == description
    assert by_name["value"]["data_type"] == "DOUBLE"
    assert by_name["period_start"]["data_type"] == "DATE"
    assert seed_columns.height > 0
    assert info["batch_ids"]
    assert sorted(info["batch_ids"]) == snapshot_batches["batch_id"].to_list()
    assert info["held_batches"] == []
    assert "late_systems" in info


def _answer(home: Path, as_of: dt.date | dt.datetime | str | None) -> int:
    with Warehouse(home, as_of=as_of) as warehouse:
        return warehouse.sql("select value from marts.answer").item()


def test_as_of_a_date_reads_the_snapshot_in_force_at_the_end_of_that_day(
    maglumat_home: MaglumatPaths,
) -> None:
    utc = dt.UTC
    publish_answer_at(maglumat_home, 1, dt.datetime(2023, 9, 11, 10, 0, tzinfo=utc))
    # 23:30 in Aşgabat (UTC+5), still 12 September there
    late_evening = publish_answer_at(maglumat_home, 2, dt.datetime(2023, 9, 12, 18, 30, tzinfo=utc))
    # 00:30 on 13 September in Aşgabat
    publish_answer_at(maglumat_home, 3, dt.datetime(2023, 9, 12, 19, 30, tzinfo=utc))
    current = publish_answer_at(maglumat_home, 4, None)
    home = maglumat_home.home

    assert _answer(home, None) == 4
    assert _answer(home, "2023-09-11") == 1
    assert _answer(home, dt.date(2023, 9, 12)) == 2
    assert _answer(home, "2023-09-12T23:00") == 1  # a time without a zone is Aşgabat time
    assert _answer(home, dt.datetime(2023, 9, 12, 18, 45, tzinfo=utc)) == 2
    assert _answer(home, "2023-09-13") == 3
    # Today in Aşgabat, from the clock the snapshot was stamped by: true at every hour.
    assert _answer(home, clock.today().isoformat()) == 4
    with Warehouse(home, as_of="2023-09-12") as warehouse:
        assert warehouse.snapshot_id == late_evening
    # Before the first snapshot ever: nothing was removed, so retention is not to blame.
    with pytest.raises(SnapshotNotFoundError, match="the first was published at 2023-09-11T10:00"):
        Warehouse(home, as_of="2023-09-10")

    # retention: the next publish with a 30-day window removes the three September snapshots
    write_answer(maglumat_home, 5)
    latest = publish(maglumat_home, retention_days=30)
    assert list_snapshots(maglumat_home) == [current, latest.snapshot_id]
    with pytest.raises(SnapshotNotFoundError, match="older ones were removed after the retention"):
        Warehouse(home, as_of="2023-09-12")
    assert _answer(home, None) == 5


def test_no_snapshot_yet_is_a_clear_error(maglumat_home: MaglumatPaths) -> None:
    with pytest.raises(SnapshotNotFoundError, match="run the pipeline first"):
        Warehouse(maglumat_home.home)
    with pytest.raises(SnapshotNotFoundError, match="none has been published yet"):
        Warehouse(maglumat_home.home, as_of="2023-09-12")
    with pytest.raises(ValueError, match="expected a date"):
        Warehouse(maglumat_home.home, as_of="12 September")


# The daily job in its own process, as the scheduler runs it, over the copy's next day.
_DAILY_JOB = textwrap.dedent(
    """
    import sys
    from maglumat.settings import MaglumatPaths
    from tests.support import SPINE, failed_checks, run_daily_job

    result = run_daily_job(MaglumatPaths.from_env(), SPINE)
    sys.exit(0 if result.success and not failed_checks(result) else 1)
    """
)
_PROGRESS = (
    "select max(report_date) as data_through, count(*) as rows, sum(cumulative_amount) as done"
    " from indicators.ind_campaign_progress"
)


@pytest.mark.slow
def test_readers_query_while_the_daily_job_runs_and_publishes(
    spine_run_copy: MaglumatPaths, tmp_path: Path
) -> None:
    paths = spine_run_copy
    next_day = AS_OF + dt.timedelta(days=1)
    added = agriculture.write(
        f"sqlite:///{paths.systems}/agriculture_campaign.sqlite", agriculture.generate(), next_day
    )
    assert added["daily_reports"] > 0
    held_open = Warehouse(paths.home)
    before = held_open.sql(_PROGRESS)
    log = tmp_path / "daily_job.log"
    with log.open("w") as output:
        job = subprocess.Popen(
            [sys.executable, "-c", _DAILY_JOB],
            cwd=PROJECT_ROOT,
            env={**os.environ, "MAGLUMAT_HOME": str(paths.home)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        queries_by_snapshot: Counter[str] = Counter()
        try:
            while job.poll() is None:
                with Warehouse(paths.home) as reader:
                    result = reader.sql(_PROGRESS)
                    if reader.snapshot_id == held_open.snapshot_id:
                        assert result.equals(before)
                    queries_by_snapshot[reader.snapshot_id] += 1
                time.sleep(0.1)
        finally:
            if job.poll() is None:
                job.kill()
    assert job.wait() == 0, log.read_text()[-3000:]

    # the reader that held the old snapshot open through the publish still reads it
    assert held_open.sql(_PROGRESS).equals(before)
    assert (held_open.snapshot.path).exists()
    held_open.close()
    with Warehouse(paths.home) as after:
        assert after.snapshot_id > held_open.snapshot_id
        progress = after.sql(_PROGRESS)
    assert progress["data_through"].item() > before["data_through"].item()
    assert queries_by_snapshot[held_open.snapshot_id] >= 5, queries_by_snapshot
