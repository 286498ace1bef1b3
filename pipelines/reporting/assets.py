"""The management reports as assets partitioned by their period.

- ``reports/daily_campaign``: one partition a day (rendered only while a campaign is on);
- ``reports/weekly_ministry``: one partition per ISO week and ministry (a two-dimensional
  partition, so each ministry's report is retried, re-rendered and seen on its own);
- ``reports/monthly_government``: one partition a month.

A partition renders its report in every language from the snapshot that was current when its
period ended (``pipelines/reporting/snapshots.py``), archives it, and only when every language
rendered completely e-mails each language's recipients (``pipelines/reporting/delivery.py``).
A failed render or delivery fails the step with the report, period, language and recipient in
the message, and Dagster retries it; a retry reuses what the failed attempt of the same run
archived and does not send again to those who already received it.
"""

from typing import Any

import dagster as dg
from pydantic import Field

from maglumat.languages import LANGUAGES
from pipelines.assets.publish import SNAPSHOT_KEY
from pipelines.reporting.archive import (
    ArchivedReport,
    ReportArchiveError,
    archive_folder,
    archive_root,
    load_archived,
    render_into_archive,
)
from pipelines.reporting.delivery import DELIVERY_LOG, deliver
from pipelines.reporting.periods import (
    DAILY,
    MONTHLY,
    REPORT_KINDS,
    WEEKLY,
    partitions_for,
    period_of_partition,
)
from pipelines.reporting.snapshots import snapshot_for_period
from pipelines.resources import MaglumatResource, ReportDeliveryResource
from warehouse.duck import read_only_connection

REPORT_KEYS = {kind: dg.AssetKey(["reports", kind]) for kind in REPORT_KINDS}
# A render or an SMTP server can fail for a while (a locked file, a full disk, a server being
# restarted): try the whole partition again after a minute, then after two.
REPORT_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL)
DESCRIPTIONS = {
    DAILY: (
        "Daily campaign report for the minister, for one day while a campaign is on: progress "
        "against the state order by province and district, the daily rate needed, the expected "
        "finish, the ten slowest districts and what changed since the day before."
    ),
    WEEKLY: (
        "Weekly report of one ministry for one ISO week: its indicators with traffic lights "
        "against their thresholds, trend charts, and the enterprises and districts most below plan."
    ),
    MONTHLY: (
        "Monthly summary for the government across all sectors, with the execution discipline "
        "of e-documents."
    ),
}


class ReportRunConfig(dg.Config):
    """Which languages to render, and whether to e-mail the recipients or archive only."""

    languages: list[str] = Field(
        default=list(LANGUAGES), description="Languages to render: tk, ru, en."
    )
    deliver: bool = Field(
        default=True, description="E-mail the recipients (when SMTP is configured)."
    )


def produce_report(
    kind: str,
    context: dg.AssetExecutionContext,
    config: ReportRunConfig,
    maglumat: MaglumatResource,
    report_delivery: ReportDeliveryResource,
) -> dg.MaterializeResult:
    """Render one partition in every language into the archive, then deliver it."""
    from warehouse.reports.render import render_report, report_scopes  # heavy: charts, PDF

    unknown = set(config.languages) - set(LANGUAGES)
    if unknown or not config.languages:
        raise ValueError(f"unknown languages {sorted(unknown)}: one of {', '.join(LANGUAGES)}")
    paths = maglumat.paths
    period, scope = period_of_partition(kind, context.partition_key)
    recipients = report_delivery.recipients()  # a broken recipients file fails before rendering
    choice = snapshot_for_period(paths, period.end)
    snapshot = choice.snapshot
    context.log.info(
        f"{kind} {period.label}: reading snapshot {snapshot.snapshot_id}, {choice.reason}"
    )
    metadata: dict[str, object] = {
        "period": period.label,
        "snapshot_id": snapshot.snapshot_id,
        "snapshot_choice": choice.reason,
    }
    if scope:
        metadata["ministry"] = scope

    archived: list[ArchivedReport] = []
    connection = read_only_connection(snapshot.path)
    try:
        if scope not in report_scopes(kind, connection):
            context.log.info(f"{kind} {period.label}: {scope} has no report in this snapshot")
            return dg.MaterializeResult(metadata={**metadata, "rendered": False})
        for language in config.languages:
            folder = archive_folder(paths.reports, period, scope, language)
            try:
                earlier = load_archived(folder) if folder.exists() else None
            except ReportArchiveError as damaged:
                context.log.warning(f"{damaged}: rendering it again")
                earlier = None
            if earlier is not None and earlier.run_id == context.run.run_id:
                context.log.info(f"{earlier.name}: archived by an earlier attempt of this run")
                archived.append(earlier)
                continue
            report = render_into_archive(
                folder,
                period,
                scope,
                language,
                lambda out_dir, language=language: render_report(
                    kind,
                    period.start,
                    language,
                    scope,
                    connection,
                    snapshot.metadata,
                    out_dir,
                ),
                snapshot.snapshot_id,
                context.run.run_id,
            )
            if report is None:
                context.log.info(f"{kind} {period.label}: nothing to report for this period")
                return dg.MaterializeResult(metadata={**metadata, "rendered": False})
            context.log.info(f"{report.name}: archived in {report.folder}")
            archived.append(report)
    finally:
        connection.close()

    # Every language is complete in the archive: only now does anything leave the building.
    settings = report_delivery.smtp_settings() if config.deliver else None
    log_path = archive_root(paths.reports) / DELIVERY_LOG
    sent, already, archived_only = [], [], []
    if not config.deliver:
        context.log.info(f"{kind} {period.label}: archived only (delivery was not asked for)")
    for report in archived if config.deliver else []:
        outcome = deliver(
            report,
            recipients.recipients(kind, scope, report.language),
            settings,
            log_path,
            snapshot.metadata["published_at"],
            context.log,
        )
        sent += [recipient for recipient, _ in outcome.sent]
        already += outcome.already_delivered
        archived_only += outcome.archived_only
    folder = archived[0].folder.parent
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "rendered": True,
            "title": archived[0].title,
            "languages": ", ".join(report.language for report in archived),
            "archive": dg.MetadataValue.path(str(folder)),
            "delivered": config.deliver,
            "e_mailed": settings is not None,
            "sent_to": ", ".join(sent) or "nobody",
            "already_delivered": ", ".join(already) or "nobody",
            "archived_only_for": ", ".join(archived_only) or "nobody",
        }
    )


def _report_asset(kind: str, retry_policy: dg.RetryPolicy | None) -> dg.AssetsDefinition:
    @dg.asset(
        key=REPORT_KEYS[kind],
        deps=[SNAPSHOT_KEY],
        partitions_def=partitions_for(kind),
        group_name="reports",
        kinds={"html", "pdf", "xlsx"},
        retry_policy=retry_policy,
        description=DESCRIPTIONS[kind],
    )
    def report_asset(
        context: dg.AssetExecutionContext,
        config: ReportRunConfig,
        maglumat: MaglumatResource,
        report_delivery: ReportDeliveryResource,
    ) -> dg.MaterializeResult:
        return produce_report(kind, context, config, maglumat, report_delivery)

    return report_asset


def build_report_assets(
    retry_policy: dg.RetryPolicy | None = REPORT_RETRY_POLICY,
) -> list[dg.AssetsDefinition]:
    """One asset per kind of report (``retry_policy`` is shortened by the tests)."""
    return [_report_asset(kind, retry_policy) for kind in REPORT_KINDS]


def report_job_name(kind: str) -> str:
    return f"{kind}_report"


def build_report_jobs() -> dict[str, Any]:  # unresolved asset jobs (no public type)
    """One job per kind of report (each has its own partitions), by kind."""
    return {
        kind: dg.define_asset_job(
            report_job_name(kind),
            selection=dg.AssetSelection.assets(REPORT_KEYS[kind]),
            executor_def=dg.in_process_executor,
            description=f"Render, archive and deliver the {kind.replace('_', ' ')} report.",
        )
        for kind in REPORT_KINDS
    }
