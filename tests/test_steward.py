"""The data steward's tools: a held batch is rejected or, once its suite is fixed, readmitted."""

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.landing import list_batches
from pipelines.settings import SUITES_DIR, MaglumatPaths
from quality import suites
from simulator import agriculture
from tests.support import SPINE, failed_checks, materialized, run_daily_job

pytestmark = pytest.mark.slow
AS_OF = agriculture.DEFAULT_AS_OF


def _drifted_batch(paths: MaglumatPaths) -> str:
    """After a good first run, a delivery with a new column: returns the held batch id."""
    dsn = f"sqlite:///{paths.systems}/agriculture_campaign.sqlite"
    system = agriculture.generate()
    database = sqlite3.connect(paths.systems / "agriculture_campaign.sqlite")
    with database:
        database.execute("alter table daily_reports add column moisture_pct real")
    database.close()
    agriculture.write(dsn, system, AS_OF + dt.timedelta(days=1))
    held_run = run_daily_job(paths, SPINE)
    assert failed_checks(held_run) == ["raw/agriculture_campaign__daily_reports:quality_gate"]
    return list_batches(paths.landing, "agriculture_campaign", "daily_reports")[-1].batch_id


def _status(paths: MaglumatPaths, batch_id: str) -> tuple[str, int, int]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        row = connection.execute(
            "select status, loaded_rows, held_rows from audit.batches where batch_id = ?",
            [batch_id],
        ).fetchone()
    finally:
        connection.close()
    assert row is not None
    return row


def test_a_rejected_batch_releases_its_table_and_stays_landed(
    spine_run_copy: MaglumatPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    maglumat_home = spine_run_copy
    batch_id = _drifted_batch(maglumat_home)

    assert main(["reject", batch_id, "--reason", "re-sent without moisture_pct"]) == 0

    assert _status(maglumat_home, batch_id)[0] == "rejected"
    assert batch_id in {m.batch_id for m in list_batches(maglumat_home.landing)}
    after = run_daily_job(maglumat_home, SPINE)
    assert after.success
    assert failed_checks(after) == []
    assert "snapshot/warehouse" in materialized(after)
    assert main(["reject", batch_id, "--reason", "again"]) == 2
    assert "is not held" in capsys.readouterr().err


def test_a_batch_is_readmitted_once_its_suite_accepts_the_new_column(
    spine_run_copy: MaglumatPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    maglumat_home = spine_run_copy
    batch_id = _drifted_batch(maglumat_home)
    # The steward adds the new field to the contract (here in a copy of the suites).
    fixed = tmp_path / "suites"
    shutil.copytree(SUITES_DIR, fixed)
    suite_file = fixed / "agriculture_campaign.yml"
    suite_file.write_text(
        suite_file.read_text(encoding="utf-8").replace(
            "      submitted_at: timestamp\n    batch:",
            "      submitted_at: timestamp\n      moisture_pct: double\n    batch:",
            1,
        ),
        encoding="utf-8",
    )
    original = suites.load_suite
    monkeypatch.setattr(
        "pipelines.ingest.load_suite",
        lambda source, table, **kwargs: original(source, table, suites_dir=fixed),
    )

    assert main(["readmit", batch_id]) == 0

    status, loaded, held = _status(maglumat_home, batch_id)
    assert (status, held) == ("loaded", 0)
    assert loaded > 0
    connection = duckdb.connect(str(maglumat_home.warehouse), read_only=True)
    try:
        (count,) = connection.execute(
            "select count(*) from raw.agriculture_campaign__daily_reports where _batch_id = ?",
            [batch_id],
        ).fetchone()
    finally:
        connection.close()
    assert count == loaded
