"""Report periods and the Dagster partitions that stand for them.

A report is partitioned by its period: a day (``daily_campaign``), an ISO week starting on
Monday, per ministry (``weekly_ministry``), or a calendar month (``monthly_government``). The
partition key is the period's first day; the archive names a period by its label
(``2023-09-30``, ``2023-W38``, ``2023-09``).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import cache

import dagster as dg

from maglumat import clock
from maglumat.settings import DBT_PROJECT_DIR

DAILY, WEEKLY, MONTHLY = "daily_campaign", "weekly_ministry", "monthly_government"
REPORT_KINDS = (DAILY, WEEKLY, MONTHLY)
REPORT_TIMEZONE = clock.LOCAL_TIMEZONE_NAME
WEEK_DIMENSION, MINISTRY_DIMENSION = "week", "ministry"
# The first period a report can be asked for: the simulated systems' history starts in 2023.
FIRST_DAY = dt.date(2023, 1, 1)
FIRST_MONDAY = dt.date(2023, 1, 2)
MINISTRIES_SEED = DBT_PROJECT_DIR / "seeds" / "reference" / "ref_ministries.csv"


@dataclass(frozen=True)
class ReportPeriod:
    """One period of one kind of report: its first and last day, both included."""

    kind: str
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        if self.kind == WEEKLY:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == MONTHLY:
            return self.start.strftime("%Y-%m")
        return self.start.isoformat()

    @property
    def partition_key(self) -> str:
        return self.start.isoformat()


def _check_kind(kind: str) -> None:
    if kind not in REPORT_KINDS:
        raise ValueError(f"unknown report {kind!r}: one of {', '.join(REPORT_KINDS)}")


def period_containing(kind: str, day: dt.date) -> ReportPeriod:
    """The period of ``kind`` that ``day`` falls in."""
    _check_kind(kind)
    if kind == WEEKLY:
        start = day - dt.timedelta(days=day.weekday())
        return ReportPeriod(kind, start, start + dt.timedelta(days=6))
    if kind == MONTHLY:
        start = day.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return ReportPeriod(kind, start, following - dt.timedelta(days=1))
    return ReportPeriod(kind, day, day)


def latest_complete_period(kind: str, today: dt.date) -> ReportPeriod:
    """The latest period of ``kind`` that ended before ``today``."""
    return period_containing(kind, period_containing(kind, today).start - dt.timedelta(days=1))


@cache
def ministry_ids() -> tuple[str, ...]:
    """The ministries that receive a weekly report, from the reference seed (in its order)."""
    with MINISTRIES_SEED.open(encoding="utf-8", newline="") as seed:
        ids = [row["ministry_id"] for row in csv.DictReader(seed)]
    return tuple(dict.fromkeys(ids))


def partitions_for(kind: str) -> dg.PartitionsDefinition:
    _check_kind(kind)
    if kind == WEEKLY:
        return dg.MultiPartitionsDefinition(
            {
                WEEK_DIMENSION: dg.WeeklyPartitionsDefinition(
                    start_date=FIRST_MONDAY.isoformat(), day_offset=1, timezone=REPORT_TIMEZONE
                ),
                MINISTRY_DIMENSION: dg.StaticPartitionsDefinition(list(ministry_ids())),
            }
        )
    if kind == MONTHLY:
        return dg.MonthlyPartitionsDefinition(
            start_date=FIRST_DAY.isoformat(), timezone=REPORT_TIMEZONE
        )
    return dg.DailyPartitionsDefinition(start_date=FIRST_DAY.isoformat(), timezone=REPORT_TIMEZONE)


def partition_key_for(period: ReportPeriod, ministry_id: str | None = None) -> str:
    """The Dagster partition key of a period (and, for the weekly report, a ministry)."""
    if period.kind == WEEKLY:
        if ministry_id is None:
            raise ValueError("the weekly report is partitioned by ministry too: name one")
        return dg.MultiPartitionKey(
            {WEEK_DIMENSION: period.partition_key, MINISTRY_DIMENSION: ministry_id}
        )
    return period.partition_key


def period_of_partition(kind: str, partition_key: str) -> tuple[ReportPeriod, str | None]:
    """The period (and ministry, for the weekly report) a partition key stands for."""
    if kind == WEEKLY:
        keys = (
            partition_key.keys_by_dimension
            if isinstance(partition_key, dg.MultiPartitionKey)
            else dict(
                zip(
                    sorted((WEEK_DIMENSION, MINISTRY_DIMENSION)),
                    partition_key.split("|"),
                    strict=True,
                )
            )
        )
        start = dt.date.fromisoformat(keys[WEEK_DIMENSION])
        return period_containing(kind, start), keys[MINISTRY_DIMENSION]
    return period_containing(kind, dt.date.fromisoformat(partition_key)), None
