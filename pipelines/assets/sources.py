"""Assets built from the source catalogue: for every table of every sector system, an extract
into the landing zone and a gated load into the warehouse's raw schema.

Asset keys are ``landing/<system>__<table>__landing`` and ``raw/<system>__<table>__raw``: Dagster's
graph labels a node with the key's last part only, and the two stages of a table sit side by side
in its sector's group, so the last part names the stage.
"""

from collections.abc import Iterator

import dagster as dg

from maglumat.catalogue import SourceSystem, SourceTable
from pipelines.freshness import assess, last_delivery
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.resources import MaglumatResource
from quality.suites import load_suite

GATE_CHECK = "quality_gate"
REACHABLE_CHECK = "source_reachable"
ON_TIME_CHECK = "delivered_on_time"


def landing_key(system: SourceSystem, table: SourceTable) -> dg.AssetKey:
    return dg.AssetKey(["landing", f"{system.name}__{table.name}__landing"])


def raw_key(system: SourceSystem, table: SourceTable) -> dg.AssetKey:
    return raw_table_key(system.name, table.name)


def raw_table_key(system: str, table: str) -> dg.AssetKey:
    """The gated load into ``raw.<system>__<table>``, also the key of dbt's source of it."""
    return dg.AssetKey(["raw", f"{system}__{table}__raw"])


def _extract_asset(system: SourceSystem, table: SourceTable) -> dg.AssetsDefinition:
    key = landing_key(system, table)

    @dg.asset(
        key=key,
        group_name=system.sector,
        kinds={"extract", system.kind, "parquet"},
        tags={"sector": system.sector, "system": system.name, "stage": "extract"},
        check_specs=[
            dg.AssetCheckSpec(
                REACHABLE_CHECK,
                asset=key,
                description=f"{system.name} answered and its data could be read.",
            ),
            dg.AssetCheckSpec(
                ON_TIME_CHECK,
                asset=key,
                description=(
                    f"{system.name} delivered within its schedule (every {system.delivery.every}"
                    f" by {system.delivery.expected_by} {system.delivery.timezone})."
                ),
            ),
        ],
        description=(
            f"Extract and land: new rows of `{table.name}` from {system.ministry}"
            f" ({system.name}), landed as an "
            f"immutable Parquet batch. {table.description} "
            + {
                "incremental": f"Read incrementally past the last landed `{table.cursor}`.",
                "append": "Each new file or event run lands as its own batch.",
                "full": "Read whole each time (a small reference table).",
            }[table.mode]
        ),
    )
    def extract(
        context: dg.AssetExecutionContext, maglumat: MaglumatResource
    ) -> Iterator[dg.MaterializeResult]:
        paths = maglumat.paths
        error: str | None = None
        try:
            outcome = extract_to_landing(paths, system, table)
            manifests, reason = outcome.manifests, outcome.reason
        except Exception as failure:  # a failing system must not stop the other sectors
            context.log.exception(f"{system.name}.{table.name}: extraction failed")
            manifests, reason = [], f"extraction failed: {failure}"
            error = f"{type(failure).__name__}: {failure}"
        context.log.info(f"{system.name}.{table.name}: {reason}")
        freshness = assess(
            system.name, system.delivery, last_delivery(paths.landing, system.name), maglumat.now()
        )
        if freshness.is_late:
            context.log.warning(freshness.message)
        yield dg.MaterializeResult(
            metadata={
                "outcome": reason,
                "batches": ", ".join(m.batch_id for m in manifests) or "none",
                "rows": sum(m.row_count for m in manifests),
                "files": ", ".join(m.file for m in manifests) or "none",
                "cursor_to": (manifests[-1].cursor_to or "") if manifests else "",
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=REACHABLE_CHECK,
                    passed=error is None,
                    severity=dg.AssetCheckSeverity.WARN,
                    description=error or "read",
                ),
                dg.AssetCheckResult(
                    check_name=ON_TIME_CHECK,
                    passed=not freshness.is_late,
                    severity=dg.AssetCheckSeverity.WARN,
                    description=freshness.message,
                    metadata={
                        "last_delivery": str(freshness.last_delivery or "never"),
                        "due_since": str(freshness.due_since),
                    },
                ),
            ],
        )

    return extract


def _load_asset(system: SourceSystem, table: SourceTable) -> dg.AssetsDefinition:
    key = raw_key(system, table)

    # A table whose codes must be in a register of its system is gated after that register.
    registers = {register for register, _ in load_suite(system, table.name).registers}

    @dg.asset(
        key=key,
        deps=[
            landing_key(system, table),
            *(raw_key(system, system.table(name)) for name in sorted(registers)),
        ],
        group_name=system.sector,
        kinds={"gate", "duckdb", "great_expectations"},
        tags={"sector": system.sector, "system": system.name, "stage": "gate"},
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
            f"Gate and load: `{table.name}` of {system.name} in the warehouse"
            f" (raw.{system.name}__{table.name}): "
            "every landed batch not yet decided is validated by its expectation suite; rows that "
            "fail a rule go to audit.quarantine, batches that fail a batch rule are held."
        ),
    )
    def load(
        context: dg.AssetExecutionContext, maglumat: MaglumatResource
    ) -> Iterator[dg.MaterializeResult]:
        outcome = gate_and_load(maglumat.paths, system, table, now=maglumat.now())
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
                        "failing_rows": dg.MetadataValue.md(_findings_table(outcome.findings)),
                        **(
                            {"validation_page": dg.MetadataValue.path(outcome.pages[-1])}
                            if outcome.pages
                            else {}
                        ),
                    },
                    description=(
                        "all batches passed"
                        if passed
                        else f"held batches: {', '.join(outcome.open_holds)} "
                        f"(see `maglumat quarantine --system {system.name}`; then `maglumat "
                        "readmit BATCH` once fixed, or `maglumat reject BATCH --reason ...`)"
                    ),
                )
            ],
        )

    return load


def _findings_table(findings: list[tuple[str, int, str, str | None, str]]) -> str:
    """The first failing rows of the run's batches as a Markdown table for the Dagster UI."""
    if not findings:
        return "No row failed a rule."
    lines = ["| file or batch | row | field | value | rule |", "| --- | ---: | --- | --- | --- |"]
    for where, row, field_name, value, rule in findings:
        shown = "" if value is None else str(value).replace("|", "\\|")[:60]
        lines.append(f"| {where} | {row} | {field_name} | {shown} | {rule} |")
    return "\n".join(lines)


def build_source_assets(systems: list[SourceSystem]) -> list[dg.AssetsDefinition]:
    assets: list[dg.AssetsDefinition] = []
    for system in systems:
        for table in system.tables:
            assets += [_extract_asset(system, table), _load_asset(system, table)]
    return assets
