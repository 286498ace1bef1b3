"""Publishing: the read-only snapshot that readers (economists, BI tools, the reports) query.

The reports are assets of their own, partitioned by period: ``pipelines/reporting/assets.py``.
"""

import dagster as dg

from maglumat.catalogue import load_catalogue
from pipelines.freshness import assess, last_delivery
from pipelines.resources import MaglumatResource
from warehouse.snapshot import publish

SNAPSHOT_KEY = dg.AssetKey(["snapshot", "warehouse"])


def build_publish_assets(transform: dg.AssetsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        key=SNAPSHOT_KEY,
        deps=list(transform.keys),
        group_name="publish",
        kinds={"duckdb"},
        description=(
            "Read-only copy of the warehouse that economists, BI tools and reports read, "
            "published only after every gate and dbt test of the run passed."
        ),
    )
    def published_snapshot(
        context: dg.AssetExecutionContext, maglumat: MaglumatResource
    ) -> dg.MaterializeResult:
        paths = maglumat.paths
        deliveries = []
        for system in load_catalogue():
            freshness = assess(
                system.name,
                system.delivery,
                last_delivery(paths.landing, system.name),
                maglumat.now(),
            )
            deliveries.append(
                {
                    "system": system.name,
                    "sector": system.sector,
                    "is_late": freshness.is_late,
                    "last_delivery": str(freshness.last_delivery or ""),
                    "due_since": freshness.due_since.isoformat(),
                    "message": freshness.message,
                }
            )
        snapshot = publish(
            paths, maglumat.snapshot_retention_days, context.run_id, deliveries=deliveries
        )
        context.log.info(f"published snapshot {snapshot.snapshot_id} at {snapshot.path}")
        return dg.MaterializeResult(
            metadata={
                "snapshot_id": snapshot.snapshot_id,
                "path": dg.MetadataValue.path(str(snapshot.path)),
                "held_batches": len(snapshot.metadata["held_batches"]),
                "late_systems": ", ".join(snapshot.metadata["late_systems"]) or "none",
                "batches": len(snapshot.metadata["batch_ids"]),
            }
        )

    return [published_snapshot]
