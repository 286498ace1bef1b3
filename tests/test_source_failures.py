"""A sector system that cannot be reached never stops the run; it is reported as late."""

import json

import duckdb
import pytest

from maglumat.settings import MaglumatPaths
from tests.support import SPINE, failed_checks, materialized, run_daily_job
from warehouse.snapshot import current_snapshot

pytestmark = pytest.mark.slow


def test_an_unreachable_system_is_reported_and_the_run_goes_on(
    maglumat_home: MaglumatPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "MAGLUMAT_AGRICULTURE_CAMPAIGN_DSN", "postgresql://reader:s3cret@127.0.0.1:9/agriculture"
    )

    result = run_daily_job(maglumat_home, SPINE)

    assert result.success
    failing = set(failed_checks(result, warnings=True, system="agriculture_campaign"))
    for table in ("daily_reports", "state_orders", "farms"):
        assert f"landing/agriculture_campaign__{table}__landing:source_reachable" in failing
        assert f"landing/agriculture_campaign__{table}__landing:delivered_on_time" in failing
    assert "snapshot/warehouse" in materialized(result)
    snapshot = current_snapshot(maglumat_home)
    assert snapshot is not None
    metadata = json.loads((snapshot.path.parent / "snapshot.json").read_text())
    assert "agriculture_campaign" in metadata["late_systems"]
    (delivery,) = [d for d in metadata["deliveries"] if d["system"] == "agriculture_campaign"]
    assert "never" in delivery["message"]
    connection = duckdb.connect(str(snapshot.path), read_only=True)
    try:
        (count,) = connection.execute(
            "select count(*) from raw.agriculture_campaign__daily_reports"
        ).fetchone()
    finally:
        connection.close()
    assert count == 0
    messages = " ".join(
        str(e.message) for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    )
    assert "s3cret" not in messages
