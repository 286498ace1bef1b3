"""Assets built from the source catalogue: for every table of every sector system, an extract
into the landing zone and a gated load into the warehouse's raw schema.

Asset keys are warehouse addresses: ``landing/<system>__<table>`` and ``raw/<system>__<table>``;
the group is the system's sector.
"""

from collections.abc import Iterator

import dagster as dg

from pipelines.catalogue import SourceSystem, SourceTable
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.resources import MaglumatResource

GATE_CHECK = "quality_gate"


def landing_key(system: SourceSystem, table: SourceTable) -> dg.AssetKey:
    return dg.AssetKey(["landing", f"{system.name}__{table.name}"])


def raw_key(system: SourceSystem, table: SourceTable) -> dg.AssetKey:
    return dg.AssetKey(["raw", f"{system.name}__{table.name}"])


def _extract_asset(system: SourceSystem, table: SourceTable) -> dg.AssetsDefinition:
    @dg.asset(
        key=landing_key(system, table),
        group_name=system.sector,
        kinds={system.kind, "parquet"},
        tags={"sector": system.sector, "system": system.name},
        description=(
            f"New rows of `{table.name}` from {system.ministry} ({system.name}), landed as an "
            f"immutable Parquet batch. {table.description} "
            + (
                {
                    "incremental": f"Read incrementally past the last landed `{table.cursor}`.",
                    "append": "Each new file or event run lands as its own batch.",
                    "full": "Read whole each time (a small reference table).",
                }[table.mode]
            )
        ),
    )
    def extract(
        context: dg.AssetExecutionContext, maglumat: MaglumatResource
    ) -> dg.MaterializeResult:
        outcome = extract_to_landing(maglumat.paths, system, table)
        context.log.info(f"{system.name}.{table.name}: {outcome.reason}")
        manifests = outcome.manifests
        return dg.MaterializeResult(
            metadata={
                "outcome": outcome.reason,
                "batches": ", ".join(m.batch_id for m in manifests) or "none",
                "rows": sum(m.row_count for m in manifests),
                "files": ", ".join(m.file for m in manifests) or "none",
                "cursor_to": (manifests[-1].cursor_to or "") if manifests else "",
            }
        )

    return extract


def _load_asset(system: SourceSystem, table: SourceTable) -> dg.AssetsDefinition:
    key = raw_key(system, table)

    @dg.asset(
        key=key,
        deps=[landing_key(system, table)],
        group_name=system.sector,
        kinds={"duckdb", "great_expectations"},
        tags={"sector": system.sector, "system": system.name},
        check_specs=[
            dg.AssetCheckSpec(
                GATE_CHECK,
                asset=key,
                blocking=True,
                description=(
                    f"Great Expectations suite quality/suites/{system.name}.yml: fails while a "
                    "batch of this table is held, which stops everything downstream."
                ),
            )
        ],
        description=(
            f"`{table.name}` of {system.name} in the warehouse (raw.{system.name}__{table.name}): "
            "every landed batch not yet decided is validated by its expectation suite; rows that "
            "fail a rule go to audit.quarantine, batches that fail a batch rule are held."
        ),
    )
    def load(
        context: dg.AssetExecutionContext, maglumat: MaglumatResource
    ) -> Iterator[dg.MaterializeResult]:
        outcome = gate_and_load(maglumat.paths, system, table)
        for load in outcome.loads:
            context.log.info(
                f"{system.name}.{table.name} batch {load.batch_id}: {load.status}, "
                f"{load.extracted_rows} extracted = {load.loaded_rows} loaded + "
                f"{load.quarantined_rows} quarantined + {load.held_rows} held"
            )
        extracted = sum(load.extracted_rows for load in outcome.loads)
        loaded = sum(load.loaded_rows for load in outcome.loads)
        quarantined = sum(load.quarantined_rows for load in outcome.loads)
        held = sum(load.held_rows for load in outcome.loads)
        passed = not outcome.open_holds
        yield dg.MaterializeResult(
            metadata={
                "batches": len(outcome.loads),
                "extracted_rows": extracted,
                "loaded_rows": loaded,
                "quarantined_rows": quarantined,
                "held_rows": held,
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=GATE_CHECK,
                    passed=passed,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={
                        "held_batches": ", ".join(outcome.open_holds) or "none",
                        "reconciles": extracted == loaded + quarantined + held,
                        "quarantined_rows": quarantined,
                    },
                    description=(
                        "all batches passed"
                        if passed
                        else f"held batches: {', '.join(outcome.open_holds)} "
                        "(see `maglumat quarantine list`)"
                    ),
                )
            ],
        )

    return load


def build_source_assets(systems: list[SourceSystem]) -> list[dg.AssetsDefinition]:
    assets: list[dg.AssetsDefinition] = []
    for system in systems:
        for table in system.tables:
            assets += [_extract_asset(system, table), _load_asset(system, table)]
    return assets
