"""The data steward's tools: a held batch is rejected or, once its suite is fixed, readmitted."""

import datetime as dt
import re
import shlex
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from maglumat.catalogue import load_catalogue
from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import CATALOGUE_DIR, MaglumatPaths
from pipelines.cli import main
from pipelines.landing import list_batches, read_batch
from simulator import agriculture
from tests.support import SPINE, failed_checks, materialized, run_daily_job

pytestmark = pytest.mark.slow
AS_OF = DEFAULT_AS_OF
GATE_OF_DAILY_REPORTS = "raw/agriculture_campaign__daily_reports__raw:quality_gate"


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
    assert failed_checks(held_run) == [GATE_OF_DAILY_REPORTS]
    # The failed check tells the steward what to type, and the command line accepts it.
    (description,) = [
        evaluation.description
        for evaluation in held_run.get_asset_check_evaluations()
        if not evaluation.passed
    ]
    command = re.search(r"`maglumat ([^`]*)`", description or "")
    assert command is not None, description
    assert main(shlex.split(command.group(1))) == 0
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


def _raw_days(paths: MaglumatPaths) -> dict[str, int]:
    """Rows of raw campaign reports by report day, from the days after the demo's."""
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        rows = connection.execute(
            "select cast(report_date as varchar), count(*)"
            " from raw.agriculture_campaign__daily_reports"
            " where report_date >= ? group by 1 order by 1",
            [AS_OF.date()],
        ).fetchall()
    finally:
        connection.close()
    return dict(rows)


def test_a_rejected_batch_skipped_knowingly_releases_its_table_and_stays_landed(
    spine_run_copy: MaglumatPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    maglumat_home = spine_run_copy
    batch_id = _drifted_batch(maglumat_home)
    before = _raw_days(maglumat_home)

    argv = ["reject", batch_id, "--reason", "re-sent without moisture_pct", "--skip-rows"]
    assert main(argv) == 0
    assert "skipped for good" in capsys.readouterr().out

    assert _status(maglumat_home, batch_id)[0] == "rejected"
    assert batch_id in {m.batch_id for m in list_batches(maglumat_home.landing)}
    after = run_daily_job(maglumat_home, SPINE)
    assert after.success
    assert failed_checks(after) == []
    assert "snapshot/warehouse" in materialized(after)
    assert _raw_days(maglumat_home) == before  # the steward chose to skip them: not read again
    assert main(["reject", batch_id, "--reason", "again"]) == 2
    assert "is not held" in capsys.readouterr().err


def test_a_rejected_batchs_rows_are_extracted_again_once_the_source_is_fixed(
    spine_run_copy: MaglumatPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    """The schema changed on the source for the day after the demo's; the steward rejects the
    held batch; until the source is fixed its rows are held again, then they load: none lost."""
    maglumat_home = spine_run_copy
    batch_id = _drifted_batch(maglumat_home)
    rejected = next(m for m in list_batches(maglumat_home.landing) if m.batch_id == batch_id)
    assert _raw_days(maglumat_home) == {}

    assert main(["reject", batch_id, "--reason", "moisture_pct is not in the contract"]) == 0
    assert "extracted again on the next run" in capsys.readouterr().out

    still_broken = run_daily_job(maglumat_home, SPINE)
    assert failed_checks(still_broken) == [GATE_OF_DAILY_REPORTS]
    again = list_batches(maglumat_home.landing, "agriculture_campaign", "daily_reports")[-1]
    assert again.batch_id != batch_id
    assert again.cursor_from == rejected.cursor_from
    assert again.row_count == rejected.row_count
    assert main(["reject", again.batch_id, "--reason", "still with moisture_pct"]) == 0

    database = sqlite3.connect(maglumat_home.systems / "agriculture_campaign.sqlite")
    with database:
        database.execute("alter table daily_reports drop column moisture_pct")
    database.close()
    fixed = run_daily_job(maglumat_home, SPINE)
    assert fixed.success
    assert failed_checks(fixed) == []
    assert "snapshot/warehouse" in materialized(fixed)
    loaded = list_batches(maglumat_home.landing, "agriculture_campaign", "daily_reports")[-1]
    assert _status(maglumat_home, loaded.batch_id) == ("loaded", rejected.row_count, 0)
    reports = set(read_batch(maglumat_home.landing, rejected)["report_id"].to_list())
    assert set(read_batch(maglumat_home.landing, loaded)["report_id"].to_list()) == reports
    connection = duckdb.connect(str(maglumat_home.warehouse), read_only=True)
    try:
        in_raw = connection.execute(
            "select count(distinct report_id) from raw.agriculture_campaign__daily_reports"
            " where list_contains(?, report_id)",
            [sorted(reports)],
        ).fetchone()
    finally:
        connection.close()
    assert in_raw == (len(reports),)


def test_a_batch_is_readmitted_once_its_contract_accepts_the_new_column(
    spine_run_copy: MaglumatPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    maglumat_home = spine_run_copy
    batch_id = _drifted_batch(maglumat_home)
    # The steward adds the new field to the contract (here in a copy of the catalogue).
    fixed = tmp_path / "catalogue"
    for sources in CATALOGUE_DIR.glob("*/sources.yml"):
        (fixed / sources.parent.name).mkdir(parents=True)
        shutil.copy(sources, fixed / sources.parent.name)
    sources_file = fixed / "agriculture" / "sources.yml"
    sources_file.write_text(
        sources_file.read_text(encoding="utf-8").replace(
            "          submitted_at: timestamp\n",
            "          submitted_at: timestamp\n          moisture_pct: double\n",
            1,
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr("pipelines.ingest.load_catalogue", lambda: load_catalogue(fixed))

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
