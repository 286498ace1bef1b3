"""The one Dagster code location of Maglumat.

It gathers the per-sector source assets from the catalogue (``pipelines/<sector>/sources.yml``),
the dbt project, publishing and reports, and applies project-wide policy once: the daily job,
its schedule and the in-process executor (DuckDB has one writer; steps run one after another).
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from maglumat import clock
from maglumat.catalogue import load_catalogue
from pipelines.assets.publish import build_publish_assets
from pipelines.assets.serving import build_serving_assets, serving_resources
from pipelines.assets.sources import build_source_assets
from pipelines.assets.transform import DBT_PROJECT, build_dbt_assets, dbt_executable
from pipelines.catalogue import check_catalogue
from pipelines.progress import progress_logger
from pipelines.reporting.assets import REPORT_KEYS, build_report_assets, build_report_jobs
from pipelines.reporting.schedules import build_report_schedules
from pipelines.resources import MaglumatResource, ReportDeliveryResource
from pipelines.sensors import build_inbox_sensors

DAILY_JOB = "maglumat_daily"


def build_definitions(
    maglumat: MaglumatResource | None = None,
    report_delivery: ReportDeliveryResource | None = None,
) -> dg.Definitions:
    systems = check_catalogue(load_catalogue())
    transform = build_dbt_assets()
    assets = [
        *build_source_assets(systems),
        transform,
        *build_publish_assets(transform),
        *build_report_assets(),
        *build_serving_assets(),  # only when MAGLUMAT_SERVING_DSN is set
    ]
    # The reports are partitioned by their period and run by their own jobs and schedules;
    # the daily job (unpartitioned) is everything else.
    daily_job = dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.all() - dg.AssetSelection.assets(*REPORT_KEYS.values()),
        executor_def=dg.in_process_executor,
        description="Extract every sector system, gate, load, transform and publish.",
    )
    report_jobs = build_report_jobs()
    return dg.Definitions(
        assets=assets,
        # The console for the UI and the daemon; `progress` for the command line, which
        # configures it (a run uses only the loggers its configuration names).
        loggers={"console": dg.colored_console_logger, "progress": progress_logger},
        jobs=[daily_job, *report_jobs.values()],
        schedules=[
            dg.ScheduleDefinition(
                name="maglumat_daily_schedule",
                job=daily_job,
                cron_schedule="30 10 * * *",  # after the districts' 10:00 reporting deadline
                execution_timezone=clock.LOCAL_TIMEZONE_NAME,
                default_status=dg.DefaultScheduleStatus.RUNNING,
            ),
            *build_report_schedules(report_jobs),
        ],
        sensors=build_inbox_sensors(systems, DAILY_JOB),
        resources={
            "maglumat": maglumat or MaglumatResource(),
            "report_delivery": report_delivery or ReportDeliveryResource(),
            "dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable()),
            **serving_resources(),
        },
    )


DBT_PROJECT.prepare_if_dev()
defs = build_definitions()
