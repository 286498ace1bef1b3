"""When each report is requested: schedules as data, one per kind of report.

- the daily campaign report at 11:30 in Aşgabat (an hour after the 10:30 daily run starts), for
  the day before, and only while a campaign of the calendar seed is under way that day;
- the weekly ministry report on Monday at 11:30, for the ISO week before, one run per ministry;
- the monthly government summary on the 2nd at 11:30, for the month before.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import dagster as dg

from maglumat import clock
from maglumat.settings import DBT_PROJECT_DIR
from pipelines.reporting.periods import (
    DAILY,
    MONTHLY,
    REPORT_TIMEZONE,
    WEEKLY,
    ReportPeriod,
    latest_complete_period,
    ministry_ids,
    partition_key_for,
)

CAMPAIGN_CALENDAR = DBT_PROJECT_DIR / "seeds" / "reference" / "campaign_calendar.csv"


@dataclass(frozen=True)
class ReportSchedule:
    kind: str
    cron_schedule: str
    description: str


REPORT_SCHEDULES = (
    # An hour after the 10:30 daily run starts, so that the day's snapshot (holding the last
    # day of the period, reported the morning after) is normally published.
    ReportSchedule(DAILY, "30 11 * * *", "The daily campaign report for yesterday, in season."),
    ReportSchedule(WEEKLY, "30 11 * * 1", "Each ministry's weekly report for the ISO week before."),
    ReportSchedule(MONTHLY, "30 11 2 * *", "The government summary for the month before."),
)


def schedule_name(kind: str) -> str:
    return f"{kind}_report_schedule"


@cache
def campaign_calendar() -> tuple[tuple[str, dt.date, dt.date], ...]:
    """(campaign, start, planned end) for every province's campaign in the calendar seed."""
    with CAMPAIGN_CALENDAR.open(encoding="utf-8", newline="") as seed:
        return tuple(
            (
                row["campaign_id"],
                dt.date.fromisoformat(row["start_date"]),
                dt.date.fromisoformat(row["planned_end_date"]),
            )
            for row in csv.DictReader(seed)
        )


def campaigns_on(day: dt.date) -> list[str]:
    """Campaigns under way on ``day`` in at least one province, by the calendar."""
    return sorted({campaign for campaign, start, end in campaign_calendar() if start <= day <= end})


def _local_today(context: dg.ScheduleEvaluationContext) -> dt.date:
    return clock.local_date(context.scheduled_execution_time)


def _run_request(
    period: ReportPeriod, ministry_id: str | None = None, campaigns: list[str] | None = None
) -> dg.RunRequest:
    scope = f":{ministry_id}" if ministry_id else ""
    tags = {"maglumat/report": period.kind, "maglumat/period": period.label}
    if campaigns:
        tags["maglumat/campaigns"] = ",".join(campaigns)
    return dg.RunRequest(
        run_key=f"{period.kind}:{period.label}{scope}",
        partition_key=partition_key_for(period, ministry_id),
        tags=tags,
    )


def requests_for(kind: str, today: dt.date) -> Iterator[dg.RunRequest] | dg.SkipReason:
    """The runs a schedule of ``kind`` requests when it ticks on ``today`` (Aşgabat time)."""
    period = latest_complete_period(kind, today)
    if kind == DAILY:
        campaigns = campaigns_on(period.start)
        if not campaigns:
            return dg.SkipReason(
                f"no campaign under way on {period.label} by the campaign calendar: no report"
            )
        return iter([_run_request(period, campaigns=campaigns)])
    if kind == WEEKLY:
        return (_run_request(period, ministry) for ministry in ministry_ids())
    return iter([_run_request(period)])


def _evaluation(
    kind: str,
) -> Callable[[dg.ScheduleEvaluationContext], Iterator[dg.RunRequest | dg.SkipReason]]:
    def evaluate(
        context: dg.ScheduleEvaluationContext,
    ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        requests = requests_for(kind, _local_today(context))
        if isinstance(requests, dg.SkipReason):
            yield requests
        else:
            yield from requests

    return evaluate


def build_report_schedules(
    jobs: Mapping[str, Any],  # the report jobs of build_report_jobs (unresolved asset jobs)
) -> list[dg.ScheduleDefinition]:
    """One schedule per report job (``jobs`` by report kind)."""
    return [
        dg.ScheduleDefinition(
            name=schedule_name(spec.kind),
            job=jobs[spec.kind],
            cron_schedule=spec.cron_schedule,
            execution_timezone=REPORT_TIMEZONE,
            execution_fn=_evaluation(spec.kind),
            description=spec.description,
            default_status=dg.DefaultScheduleStatus.RUNNING,
        )
        for spec in REPORT_SCHEDULES
    ]
