"""The dbt project as Dagster assets: one asset per seed and model, keyed by its warehouse
address (``[schema, name]``), so dbt sources line up with the raw assets that load them."""

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliInvocation,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from maglumat.catalogue import load_catalogue
from maglumat.settings import DBT_PROJECT_DIR
from pipelines import dbt_failures
from pipelines.assets.sources import raw_table_key
from pipelines.dbt_increments import incremental_models, prepare_increment, record_increment
from pipelines.dbt_plan import (
    DbtBuildPlan,
    finish_build,
    left_alone,
    parse_is_current,
    plan_build,
    project_fingerprint,
    project_settings,
    start_build,
)
from pipelines.dbt_tests import is_asset_check, record_test_results
from pipelines.ingest import ensure_raw_tables
from pipelines.progress import DBT_PROGRESS
from pipelines.resources import MaglumatResource
from warehouse.duck import connection_under_lock, writer_lock
from warehouse.leftovers import drop_leftover_relations

DBT_PROGRESS_EVERY = 20  # dbt results between two progress records

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# dbt's unit tests check the SQL against fixtures: they run in `make test`, not in production.
PRODUCTION_BUILD = ["build", "--exclude-resource-type", "unit_test"]


class WarehouseAddressTranslator(DagsterDbtTranslator):
    """Asset key = ``[schema, table]``; a source is the gated load of the raw table it reads."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return raw_table_key(dbt_resource_props["source_name"], dbt_resource_props["name"])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "warehouse"

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        """Only the singular tests are asset checks (pipelines/dbt_tests.py says why)."""
        if not is_asset_check(manifest["nodes"].get(unique_id, {})):
            return None
        return super().get_asset_check_spec(asset_spec, manifest, unique_id, project)


def dbt_executable() -> str:
    """dbt from this environment, so that nothing depends on the caller's PATH, started through
    ``maglumat-dbt`` so that it dies with the run that started it (pipelines/dbt_child.py)."""
    for name in ("maglumat-dbt", "dbt"):
        beside_python = Path(sys.executable).parent / name
        if beside_python.exists():
            return str(beside_python)
    return "dbt"


def manifest_path() -> str:
    """The parsed dbt project; ``maglumat prepare`` (or ``dagster dev``) writes it."""
    path = DBT_PROJECT.manifest_path
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `maglumat prepare` (dbt parse) first")
    return str(path)


def build_dbt_assets() -> dg.AssetsDefinition:
    manifest = manifest_path()

    @dbt_assets(
        manifest=manifest,
        dagster_dbt_translator=WarehouseAddressTranslator(),
        project=DBT_PROJECT,
    )
    def warehouse_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, maglumat: MaglumatResource
    ) -> Iterator[Any]:
        """Seeds, staging, intermediate, marts and indicators, built and tested by dbt.

        A run of the whole project rebuilds only what is downstream of the sources that changed
        since the last successful build (pipelines/dbt_plan.py); the rest is reported unchanged.
        """
        maglumat.export_environment()
        ensure_raw_tables(maglumat.paths, load_catalogue())
        with writer_lock(maglumat.paths.warehouse):
            parsed = json.loads(Path(manifest).read_text())
            settings = project_settings(DBT_PROJECT_DIR)
            with connection_under_lock(maglumat.paths.warehouse) as connection:
                plan = plan_build(
                    connection,
                    parsed,
                    settings=settings,
                    full_build=maglumat.dbt_full_build or context.is_subset,
                    parse_current=parse_is_current(Path(manifest), DBT_PROJECT_DIR),
                )
                # A hand-picked selection is recorded but never a base for a partial build.
                status = "subset" if context.is_subset else "running"
                build_number = start_build(connection, plan, context.run_id, status)
                incremental = incremental_models(parsed)
                increment = prepare_increment(
                    connection,
                    build_number,
                    base_build=plan.base_build,
                    full_reason=None if plan.base_build is not None else plan.reason,
                    watched=set().union(*incremental.values()),
                )
                # Unchanged models first: Dagster wants a multi-asset's outputs in dependency
                # order, and nothing left alone depends on what is rebuilt.
                models_alone, tests_alone = left_alone(parsed, plan)
                said = increment.describe(rebuilt=bool(set(incremental) - set(models_alone)))
                record_increment(connection, build_number, said)
            arguments = [*PRODUCTION_BUILD, *(["--full-refresh"] * increment.is_full_refresh)]
            if context.is_subset:  # dagster-dbt passes the selection to dbt
                invocation = dbt.cli(arguments, context=context)
                try:
                    yield from _dagster_events(invocation, parsed, context)
                finally:
                    _keep_test_results(maglumat, build_number, _artifacts(invocation))
                return
            context.log.info(f"dbt build of {plan.describe()}: {plan.reason}")
            context.log.info(said)
            yield from _unchanged(parsed, plan, models_alone)
            built_with = plan.project_fingerprint
            if not plan.is_empty:
                invocation = _start_build(
                    context, dbt, parsed, arguments, [*models_alone, *tests_alone]
                )
                to_build = (
                    sum(
                        node.get("resource_type") in ("model", "seed", "snapshot", "test")
                        for node in parsed["nodes"].values()
                    )
                    - len(models_alone)
                    - len(tests_alone)
                )
                try:
                    yield from _dagster_events(invocation, parsed, context, to_build)
                except DagsterDbtCliRuntimeError as error:
                    artifacts = _artifacts(invocation)
                    _keep_test_results(maglumat, build_number, artifacts)
                    _name_the_rows_behind(context, maglumat, artifacts, error)
                    raise
                # Remember the project dbt actually built (its own parse of the files), which
                # the next plan compares with the parse the definitions were loaded from.
                built = invocation.get_artifact("manifest.json")
                built_with = project_fingerprint(built, settings)
                run_results = invocation.get_artifact("run_results.json")
            else:
                built, run_results = parsed, {}
            with connection_under_lock(maglumat.paths.warehouse) as connection:
                record_test_results(connection, build_number, built, run_results)
                finish_build(connection, build_number, built_with)
                dbt_failures.record(connection, [])
                for address in drop_leftover_relations(connection, built):
                    context.log.info(f"dropped {address}: dbt no longer builds it")

    return warehouse_models


def _dagster_events(
    invocation: DbtCliInvocation,
    manifest: Mapping[str, Any],
    context: dg.AssetExecutionContext,
    to_build: int = 0,
) -> Iterator[Any]:
    """dbt's events as Dagster's, but for the results of tests that are not asset checks: dbt
    ran them and the build keeps their results, without one Dagster event each."""
    finished = 0
    for event in invocation.stream_raw_events():
        unique_id = event.raw_event["data"].get("node_info", {}).get("unique_id") or ""
        if event.is_result_event:
            finished += 1
            if to_build and finished % DBT_PROGRESS_EVERY == 0:
                # The command line's progress line reads it (pipelines/progress.py).
                context.log.debug(f"{DBT_PROGRESS} {finished}/{max(to_build, finished)}")
        # A test the definitions' parse does not know (the project changed since) is no check.
        if unique_id.startswith("test.") and not is_asset_check(
            manifest["nodes"].get(unique_id, {})
        ):
            continue
        yield from event.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=context,
            target_path=invocation.target_path,
            project=invocation.project,
        )


def _artifacts(invocation: DbtCliInvocation) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """dbt's manifest and run results of ``invocation``, read once; None when dbt stopped
    before writing them (its own error says why)."""
    try:
        return invocation.get_artifact("manifest.json"), invocation.get_artifact("run_results.json")
    except (OSError, ValueError):
        return None


def _keep_test_results(
    maglumat: MaglumatResource,
    build_number: int,
    artifacts: tuple[dict[str, Any], dict[str, Any]] | None,
) -> None:
    """Keep the results of the tests dbt ran in a build that stopped or was hand-picked."""
    if artifacts is None:
        return
    with connection_under_lock(maglumat.paths.warehouse) as connection:
        record_test_results(connection, build_number, *artifacts)


def _name_the_rows_behind(
    context: dg.AssetExecutionContext,
    maglumat: MaglumatResource,
    artifacts: tuple[dict[str, Any], dict[str, Any]] | None,
    error: DagsterDbtCliRuntimeError,
) -> None:
    """After failed dbt tests: raise a failure naming the landed batches and rows behind each
    (pipelines/dbt_failures.py), kept for ``maglumat quarantine`` too."""
    if artifacts is None:
        return
    manifest, run_results = artifacts
    with connection_under_lock(maglumat.paths.warehouse) as connection:
        traced = dbt_failures.trace(connection, manifest, run_results)
        if not traced:
            return
        dbt_failures.record(connection, traced)
    descriptions = [test.describe() for test in traced]
    for description in descriptions:
        context.log.error(description)
    raise dg.Failure(
        description="\n".join(
            [
                f"{len(traced)} blocking dbt test{'s' if len(traced) != 1 else ''} failed,"
                " so nothing is published; `maglumat quarantine` lists them again:",
                *descriptions,
            ]
        ),
        metadata={"failed tests": len(traced)},
    ) from error


def _start_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    manifest: Mapping[str, Any],
    arguments: list[str],
    excluded: list[str],
) -> DbtCliInvocation:
    """Start dbt on the plan. dagster-dbt always adds `--select fqn:*` (and a second `--select`
    would only widen it), so the plan is an exact `--exclude` of what it leaves alone, with
    dbt's indirect test selection off: the tests of a rebuilt model run even where they also
    touch a model left alone (a relationship to a dimension)."""
    if not excluded:
        return dbt.cli(arguments, context=context)
    # By fully qualified name: a bare name would also match a folder of that name.
    names = " ".join("fqn:" + ".".join(manifest["nodes"][node]["fqn"]) for node in excluded)
    return dbt.cli(
        [*arguments, "--indirect-selection", "empty", "--exclude", names], context=context
    )


def _unchanged(
    manifest: Mapping[str, Any], plan: DbtBuildPlan, models: list[str]
) -> Iterator[dg.MaterializeResult]:
    """The models this build left alone: their sources are as they were at the last build."""
    translator = WarehouseAddressTranslator()
    for unique_id in models:
        yield dg.MaterializeResult(
            asset_key=translator.get_asset_key(manifest["nodes"][unique_id]),
            metadata={
                "rebuilt": False,
                "reason": f"no source upstream of it changed ({plan.reason})",
            },
        )
