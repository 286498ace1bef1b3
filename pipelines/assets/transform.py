"""The dbt project as Dagster assets: one asset per seed and model, keyed by its warehouse
address (``[schema, name]``), so dbt sources line up with the raw assets that load them."""

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from pipelines.catalogue import load_catalogue
from pipelines.ingest import ensure_raw_tables
from pipelines.resources import MaglumatResource
from pipelines.settings import DBT_PROJECT_DIR
from warehouse.duck import writer_lock

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class WarehouseAddressTranslator(DagsterDbtTranslator):
    """Asset key = ``[schema, table]``; a source is the raw table it reads."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(
                ["raw", f"{dbt_resource_props['source_name']}__{dbt_resource_props['name']}"]
            )
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "warehouse"


def dbt_executable() -> str:
    """dbt from this environment, so that nothing depends on the caller's PATH."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.exists() else "dbt"


def manifest_path() -> str:
    """The parsed dbt project; ``maglumat prepare`` (or ``dagster dev``) writes it."""
    path = DBT_PROJECT.manifest_path
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `maglumat prepare` (dbt parse) first")
    return str(path)


def build_dbt_assets() -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=manifest_path(),
        dagster_dbt_translator=WarehouseAddressTranslator(),
        project=DBT_PROJECT,
    )
    def warehouse_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, maglumat: MaglumatResource
    ) -> Iterator[Any]:
        """Seeds, staging, intermediate, marts and indicators, built and tested by dbt."""
        maglumat.export_environment()
        ensure_raw_tables(maglumat.paths, load_catalogue())
        with writer_lock(maglumat.paths.warehouse):
            yield from dbt.cli(["build"], context=context).stream()

    return warehouse_models
