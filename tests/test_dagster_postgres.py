"""Dagster on PostgreSQL storage, as deployed in production (deploy/dagster-postgres.yaml).

A real materialization of the campaign system's landing and raw assets, with their checks, on
an instance whose DAGSTER_HOME holds the very dagster.yaml the deployment documents; the run,
its materializations and its check evaluations must then be in PostgreSQL, readable by a new
instance (another process of the deployment) and by plain SQL.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from pipelines.definitions import DAILY_JOB, build_definitions
from pipelines.resources import MaglumatResource
from simulator import agriculture

DEPLOYED_INSTANCE = Path(__file__).resolve().parent.parent / "deploy" / "dagster-postgres.yaml"
SYSTEM = "agriculture_campaign"

pytestmark = pytest.mark.postgres


def test_dagster_keeps_runs_materializations_and_checks_in_postgres(
    postgres_dsn: str,
    maglumat_home: MaglumatPaths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(DEPLOYED_INSTANCE, dagster_home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    # The deployment names the psycopg2 driver (see the comment in dagster-postgres.yaml).
    monkeypatch.setenv(
        "MAGLUMAT_DAGSTER_POSTGRES_URL",
        postgres_dsn.replace("postgresql://", "postgresql+psycopg2://", 1),
    )
    agriculture.write(
        f"sqlite:///{maglumat_home.systems}/{SYSTEM}.sqlite",
        agriculture.generate(),
        DEFAULT_AS_OF,
    )

    definitions = build_definitions(MaglumatResource(home=str(maglumat_home.home)))
    selected = {
        key
        for key in definitions.resolve_asset_graph().get_all_asset_keys()
        if key.path[0] in ("landing", "raw") and key.path[-1].startswith(f"{SYSTEM}__")
    }
    assert selected, "the catalogue has no campaign tables"
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        result = definitions.resolve_job_def(DAILY_JOB).execute_in_process(
            instance=instance, asset_selection=list(selected)
        )
    assert result.success
    run_id = result.run_id

    # A second instance from the same dagster.yaml (as the webserver or daemon would open it).
    with dg.DagsterInstance.get() as reopened:
        run = reopened.get_run_by_id(run_id)
        assert run is not None
        assert run.status == dg.DagsterRunStatus.SUCCESS
        for key in selected:
            latest = reopened.get_latest_materialization_event(key)
            assert latest is not None, key
            assert latest.run_id == run_id

    with psycopg.connect(postgres_dsn) as con:
        status = con.execute("select status from runs where run_id = %s", [run_id]).fetchone()
        assert status == ("SUCCESS",)
        materialized = {
            tuple(json.loads(asset_key))
            for (asset_key,) in con.execute(
                "select asset_key from event_logs"
                " where run_id = %s and dagster_event_type = 'ASSET_MATERIALIZATION'",
                [run_id],
            )
        }
        assert materialized == {tuple(key.path) for key in selected}
        checks = {
            (tuple(json.loads(asset_key)), check_name): execution_status
            for asset_key, check_name, execution_status in con.execute(
                "select asset_key, check_name, execution_status from asset_check_executions"
                " where run_id = %s",
                [run_id],
            )
        }
    tables = sorted(key.path[-1].removesuffix("__raw") for key in selected if key.path[0] == "raw")
    for table in tables:
        # The blocking gate passed for every campaign table, and the source checks ran.
        assert checks[(("raw", f"{table}__raw"), "quality_gate")] == "SUCCEEDED"
        assert (("landing", f"{table}__landing"), "source_reachable") in checks
    assert len(checks) >= 2 * len(tables)
