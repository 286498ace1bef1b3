"""The Dagster asset that publishes to the serving database: part of the daily job only when
the serving DSN is set, and publishing the current snapshot when it runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from maglumat.settings import MaglumatPaths
from pipelines.assets.serving import (
    SERVING_DSN_ENV,
    SERVING_KEY,
    ServingDatabaseResource,
    build_serving_asset,
    build_serving_assets,
)
from pipelines.resources import MaglumatResource
from tests.serving_support import fresh_database
from tests.serving_support import served_tables as _served
from warehouse.duck import read_only_connection
from warehouse.snapshot import current_snapshot

pytestmark = pytest.mark.postgres


def test_the_asset_exists_only_when_the_dsn_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SERVING_DSN_ENV, raising=False)
    assert build_serving_assets() == []
    monkeypatch.setenv(SERVING_DSN_ENV, "postgresql://owner@127.0.0.1:5432/maglumat_serving")
    from pipelines.definitions import build_definitions

    definitions = build_definitions()
    graph = definitions.resolve_asset_graph()
    assert SERVING_KEY in graph.get_all_asset_keys()
    assert dg.AssetKey(["snapshot", "warehouse"]) in graph.get(SERVING_KEY).parent_keys
    daily = definitions.resolve_job_def("maglumat_daily")
    assert SERVING_KEY in daily.asset_layer.selected_asset_keys


def test_the_serving_asset_publishes_the_current_snapshot(
    all_sectors: MaglumatPaths, tmp_path: Path
) -> None:
    home = tmp_path / "maglumat"
    shutil.copytree(all_sectors.snapshots, home / "snapshots", symlinks=True)
    paths = MaglumatPaths(home=home)
    snapshot = current_snapshot(paths)
    assert snapshot is not None
    with fresh_database() as database:
        result = dg.materialize(
            [build_serving_asset()],
            resources={
                "maglumat": MaglumatResource(home=str(home)),
                "serving_database": ServingDatabaseResource(
                    dsn=database.dsn, role_prefix=database.role_prefix
                ),
            },
        )
        assert result.success
        (event,) = [
            e for e in result.get_asset_materialization_events() if e.asset_key == SERVING_KEY
        ]
        metadata = event.materialization.metadata
        assert metadata["snapshot_id"].value == snapshot.snapshot_id
        assert str(metadata["database"].value).endswith(f"/{database.name}")  # no user
        with read_only_connection(snapshot.path) as duck:
            assert metadata["tables"].value == len(_served(duck))
        with database.as_reader("cabinet") as pg:
            assert pg.execute("select snapshot_id from serving.publication").fetchone() == (
                snapshot.snapshot_id,
            )
