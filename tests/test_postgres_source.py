"""The same pipeline with the ministry's database on PostgreSQL instead of SQLite."""

import pytest

from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from simulator import agriculture
from tests.support import SPINE, expected_campaign_progress, failed_checks, run_daily_job
from warehouse.snapshot import open_current

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_pipeline_with_postgresql_as_the_sector_system(
    maglumat_home: MaglumatPaths, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = agriculture.generate()
    agriculture.write(postgres_dsn, system, DEFAULT_AS_OF)
    monkeypatch.setenv("MAGLUMAT_AGRICULTURE_CAMPAIGN_DSN", postgres_dsn)

    result = run_daily_job(maglumat_home, SPINE)

    assert result.success
    assert failed_checks(result) == []
    assert not (maglumat_home.systems / "agriculture_campaign.sqlite").exists()
    data_through, expected = expected_campaign_progress(
        system, DEFAULT_AS_OF, "wheat", "sowing", 2024
    )
    connection = open_current(maglumat_home)
    try:
        rows = connection.execute(
            "select region_id, cumulative_amount, plan_amount from indicators.ind_campaign_progress"
            " where campaign_id = 'wheat_sowing_2023' and report_date = ?",
            [data_through],
        ).fetchall()
        sources = connection.execute("select distinct source from audit.batches").fetchall()
    finally:
        connection.close()
    actual = {region: (cumulative, plan) for region, cumulative, plan in rows}
    assert set(actual) == set(expected)
    for region, progress in expected.items():
        assert actual[region][0] == pytest.approx(progress.cumulative, abs=0.01)
        assert actual[region][1] == pytest.approx(progress.plan)
    assert len(sources) == 1
    assert sources[0][0].startswith("postgresql://")
