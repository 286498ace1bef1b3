"""Partial periods (``is_partial_period`` of ``indicators.fct_indicator_values``), for the
agriculture, processing and e-document indicators the oracle recomputes.

An indicator is complete through the earlier of two days:

* its last day with data: the last day of its base rows; for an indicator published without
  day or week periods, the last day of the month of its last data;
* the last reporting period of its sector's system whose deadline had passed by "now" (the
  latest stamp any system had written by the run's instant, ``data_quality.latest_stamp``): for
  a daily system, the last day whose next day at ``expected_by`` in Aşgabat plus the grace
  hours was at or before now, skipping Saturdays and Sundays for a system that reports on
  working days only (``working_days_only`` in ``indicators/data_quality.yml``).

A period is partial when its last day is after that date: a day is its own last day, an ISO
week ends on the Sunday, a month and a year-to-date period at the month's end, a quarter and a
year at theirs. A campaign period is partial while its campaign's last day with data is on or
after that date (the campaign may go on).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import polars as pl
import yaml

from tests.oracle import agriculture, data_quality, edocument, processing
from tests.oracle.engine import KEYS

DELIVERIES = Path(__file__).resolve().parents[2] / "dbt_project" / "indicators" / "data_quality.yml"


@functools.cache
def _working_days_only(system_name: str) -> bool:
    entries = yaml.safe_load(DELIVERIES.read_text(encoding="utf-8"))["deliveries"]
    entry = next(e for e in entries if e["system"] == system_name)
    return bool(entry.get("working_days_only", False))


def last_passed_day(system_name: str, sector: str, now: dt.datetime) -> dt.date:
    """The last day of a daily system whose deadline had passed by ``now``."""
    day = now.astimezone(data_quality.ASHGABAT).date()
    while data_quality.daily_deadline(day, system_name, sector) > now or (
        _working_days_only(system_name) and day.weekday() >= 5
    ):
        day -= dt.timedelta(days=1)
    return day


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def period_end(period_type: str, start: pl.Expr) -> pl.Expr:
    """The last day of a period from its type and start (not for campaign periods)."""
    if period_type == "day":
        return start
    if period_type == "week":
        return start + pl.duration(days=6)
    if period_type in ("month", "ytd"):
        return start.dt.month_end()
    if period_type == "quarter":
        return start.dt.offset_by("3mo") - pl.duration(days=1)
    if period_type == "year":
        return start.dt.offset_by("1y") - pl.duration(days=1)
    raise ValueError(period_type)


def mark(expected: pl.DataFrame, last_data: dt.date, system_through: dt.date) -> pl.DataFrame:
    """The expected frame's keys with ``is_partial_period``; campaign periods take their last
    day with data from the frame's day rows of the same campaign (breakdown)."""
    through = min(last_data, system_through)
    frames = []
    for (period_type,), rows in expected.group_by("period_type"):
        if period_type == "campaign":
            campaign_last = (
                expected.filter(pl.col("period_type") == "day")
                .group_by("breakdown")
                .agg(campaign_last=pl.col("period_start").max())
            )
            flagged = rows.join(campaign_last, on="breakdown", how="left").with_columns(
                is_partial_period=pl.col("campaign_last") >= through
            )
        else:
            flagged = rows.with_columns(
                is_partial_period=period_end(str(period_type), pl.col("period_start")) > through
            )
        frames.append(flagged.select(*KEYS, "is_partial_period"))
    return pl.concat(frames)


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    """``is_partial_period`` of every row of the covered indicators, by indicator."""
    now = data_quality.latest_stamp(seed, as_of)
    out: dict[str, pl.DataFrame] = {}
    campaign_through = last_passed_day("agriculture_campaign", "agriculture", now)
    campaign_frames = {
        **agriculture.expected(seed, as_of),
        "agr_reporting_completeness_pct": agriculture.reporting_completeness(seed, as_of),
    }
    for indicator_id, frame in campaign_frames.items():
        days = frame.filter(pl.col("period_type") == "day")["period_start"]
        out[indicator_id] = mark(frame, days.max(), campaign_through)  # type: ignore[arg-type]
    processing_through = last_passed_day("processing_output", "processing", now)
    for indicator_id, frame in processing.expected(seed, as_of).items():
        last_month = frame.filter(pl.col("period_type") == "month")["period_start"].max()
        out[indicator_id] = mark(frame, _month_end(last_month), processing_through)  # type: ignore[arg-type]
    edocument_through = last_passed_day("edocument_workflow", "edocument", now)
    last_days = edocument.last_days(seed, as_of)
    for indicator_id, frame in edocument.expected(seed, as_of).items():
        out[indicator_id] = mark(frame, last_days[indicator_id], edocument_through)
    return out
