"""A blocking dbt test that fails names the landed batch and rows behind its failures, in the
run's error and in ``maglumat quarantine``; once the rows are right, the next build clears it."""

import duckdb
import pytest

from maglumat.settings import MaglumatPaths
from pipelines.cli import main
from tests.support import SPINE, latest_build_tests, run_daily_job

pytestmark = pytest.mark.slow

UNKNOWN_DISTRICT = "TM-X-99"


def _latest_batch_rows(paths: MaglumatPaths, rows: list[int], district: str | None) -> str:
    """Set the district of some rows of the latest campaign batch in raw (rows a lax suite let
    through); ``None`` puts back what the batch landed with. Returns the batch id."""
    connection = duckdb.connect(str(paths.warehouse))
    try:
        (batch_id,) = connection.execute(
            "select max(_batch_id) from raw.agriculture_campaign__daily_reports"
        ).fetchone() or (None,)
        assert batch_id is not None
        if district is None:
            connection.execute(
                "update raw.agriculture_campaign__daily_reports as r"
                " set district_code = l.district_code"
                " from read_parquet(?) as l"
                " where r._batch_id = ? and r.report_id = l.report_id",
                [str(_landed_file(connection, paths, batch_id)), batch_id],
            )
        else:
            connection.execute(
                "update raw.agriculture_campaign__daily_reports set district_code = ?"
                f" where _batch_id = ? and _row_number in ({', '.join('?' * len(rows))})",
                [district, batch_id, *rows],
            )
    finally:
        connection.close()
    return str(batch_id)


def _landed_file(connection: duckdb.DuckDBPyConnection, paths: MaglumatPaths, batch_id: str) -> str:
    (landed,) = connection.execute(
        "select landed_file from audit.batches where batch_id = ?", [batch_id]
    ).fetchone() or (None,)
    return str(paths.landing / landed)


def _failed_test_results(paths: MaglumatPaths) -> list[tuple[str | None, str, int | None]]:
    """(tested model, status, failing rows) of the latest build's tests that failed."""
    return [
        (model, status, failures)
        for _, model, status, failures in latest_build_tests(paths.warehouse)
        if status in ("fail", "error")
    ]


def test_a_failed_dbt_test_names_the_batch_and_rows_behind_it_until_they_are_fixed(
    spine_run_copy: MaglumatPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = spine_run_copy
    batch_id = _latest_batch_rows(paths, [3, 7], UNKNOWN_DISTRICT)

    failed = run_daily_job(paths, SPINE, dbt_full_build=True)

    assert not failed.success
    (failure,) = [event for event in failed.all_events if event.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description or ""
    assert "blocking dbt test" in message
    assert f"'{UNKNOWN_DISTRICT}'" in message
    assert f"batch {batch_id} (agriculture_campaign.daily_reports) rows 3, 7" in message
    # The failed build kept its tests' results, the failing one among them.
    failing = _failed_test_results(paths)
    assert failing
    assert all(status in ("fail", "error") for _, status, _ in failing)
    assert any((failures or 0) > 0 for _, _, failures in failing)
    assert main(["quarantine"]) == 0
    listed = capsys.readouterr().out
    assert "Blocking dbt tests that failed in the last build:" in listed
    assert f"batch {batch_id} (agriculture_campaign.daily_reports) rows 3, 7" in listed

    # The way back: the rows put right, the next build passes and the listing is clear.
    _latest_batch_rows(paths, [3, 7], None)
    fixed = run_daily_job(paths, SPINE, dbt_full_build=True)

    assert fixed.success, [e.message for e in fixed.all_events if e.is_step_failure]
    assert _failed_test_results(paths) == []
    assert main(["quarantine"]) == 0
    assert "Blocking dbt tests" not in capsys.readouterr().out
