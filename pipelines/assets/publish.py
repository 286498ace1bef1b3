"""Publishing: the read-only snapshot that readers query, and the reports made from it."""

import dagster as dg

from pipelines.catalogue import load_catalogue
from pipelines.freshness import assess, last_delivery
from pipelines.resources import MaglumatResource
from warehouse.reports.daily_campaign import render_daily_campaign_report
from warehouse.snapshot import current_snapshot, open_current, publish

SNAPSHOT_KEY = dg.AssetKey(["snapshot", "warehouse"])
DAILY_REPORT_KEY = dg.AssetKey(["reports", "daily_campaign"])


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

    @dg.asset(
        key=DAILY_REPORT_KEY,
        deps=[SNAPSHOT_KEY],
        group_name="reports",
        kinds={"html", "pdf"},
        description=(
            "Daily campaign report for the minister: progress against the state order by "
            "province, the rate needed to finish on plan and the lagging districts (HTML, PDF)."
        ),
    )
    def daily_campaign_report(
        context: dg.AssetExecutionContext, maglumat: MaglumatResource
    ) -> dg.MaterializeResult:
        paths = maglumat.paths
        snapshot = current_snapshot(paths)
        if snapshot is None:
            raise FileNotFoundError("no snapshot has been published yet")
        connection = open_current(paths)
        try:
            rendered = render_daily_campaign_report(connection, snapshot.metadata, paths.reports)
        finally:
            connection.close()
        if rendered is None:
            context.log.info("no campaign under way on the latest reported day: no report")
            return dg.MaterializeResult(metadata={"rendered": False})
        context.log.info(f"daily campaign report: {rendered.html_path} and {rendered.pdf_path}")
        return dg.MaterializeResult(
            metadata={
                "rendered": True,
                "report_date": rendered.report_date.isoformat(),
                "campaigns": ", ".join(rendered.campaigns),
                "html": dg.MetadataValue.path(str(rendered.html_path)),
                "pdf": dg.MetadataValue.path(str(rendered.pdf_path)),
            }
        )

    return [published_snapshot, daily_campaign_report]
