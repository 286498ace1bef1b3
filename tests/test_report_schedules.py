"""The report schedules request the right partitions, in and out of campaign season."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.reporting.assets import REPORT_KEYS, report_job_name
from pipelines.reporting.periods import (
    DAILY,
    MONTHLY,
    REPORT_KINDS,
    WEEKLY,
    latest_complete_period,
    ministry_ids,
    period_containing,
    period_of_partition,
)
from pipelines.reporting.schedules import schedule_name

ASHGABAT = ZoneInfo("Asia/Ashgabat")


def _tick(kind: str, local_time: dt.datetime) -> tuple[list[dg.RunRequest], str | None]:
    schedule = defs.resolve_schedule_def(schedule_name(kind))
    context = dg.build_schedule_context(
        scheduled_execution_time=local_time.replace(tzinfo=ASHGABAT),
        repository_def=defs.get_repository_def(),  # resolves the partition keys against the job
    )
    data = schedule.evaluate_tick(context)
    return list(data.run_requests or []), data.skip_message


def _assert_partitions_exist(kind: str, requests: list[dg.RunRequest], now: dt.datetime) -> None:
    partitions = defs.resolve_job_def(report_job_name(kind)).partitions_def
    assert partitions is not None
    keys = set(partitions.get_partition_keys(current_time=now.replace(tzinfo=ASHGABAT)))
    assert {request.partition_key for request in requests} <= keys


def test_every_report_has_a_schedule_on_its_own_job() -> None:
    expected = {DAILY: "30 11 * * *", WEEKLY: "30 11 * * 1", MONTHLY: "30 11 2 * *"}
    for kind in REPORT_KINDS:
        schedule = defs.resolve_schedule_def(schedule_name(kind))
        assert schedule.cron_schedule == expected[kind]
        assert schedule.execution_timezone == "Asia/Ashgabat"
        assert schedule.job_name == report_job_name(kind)
        job = defs.resolve_job_def(report_job_name(kind))
        assert job.asset_layer.selected_asset_keys == {REPORT_KEYS[kind]}


def test_the_daily_job_stays_unpartitioned_and_leaves_the_reports_out() -> None:
    job = defs.resolve_job_def("maglumat_daily")
    assert job.partitions_def is None
    selected = job.asset_layer.selected_asset_keys
    assert dg.AssetKey(["snapshot", "warehouse"]) in selected
    assert not selected & set(REPORT_KEYS.values())


def test_daily_report_in_cotton_season_is_for_yesterday() -> None:
    now = dt.datetime(2023, 10, 1, 11, 0)
    requests, skipped = _tick(DAILY, now)
    assert skipped is None
    (request,) = requests
    assert request.partition_key == "2023-09-30"
    assert request.tags["maglumat/campaigns"] == "cotton_harvest_2023,wheat_sowing_2023"
    _assert_partitions_exist(DAILY, requests, now)


@pytest.mark.parametrize(
    ("local_time", "campaigns"),
    [
        # D province's wheat harvest is planned to end on 10 July: the 11th still reports it.
        (dt.datetime(2023, 7, 11, 11, 0), "wheat_harvest_2023"),
        (dt.datetime(2023, 6, 2, 11, 0), "wheat_harvest_2023"),
        (dt.datetime(2023, 9, 3, 11, 0), "wheat_sowing_2023"),
    ],
)
def test_daily_report_runs_on_the_campaign_calendars_edges(
    local_time: dt.datetime, campaigns: str
) -> None:
    (request,), skipped = _tick(DAILY, local_time)
    assert skipped is None
    assert request.partition_key == (local_time.date() - dt.timedelta(days=1)).isoformat()
    assert request.tags["maglumat/campaigns"] == campaigns


@pytest.mark.parametrize(
    "local_time",
    [
        dt.datetime(2023, 7, 12, 11, 0),  # the day after every wheat harvest ended
        dt.datetime(2023, 8, 15, 11, 0),  # between the harvest and the sowing
        dt.datetime(2023, 9, 2, 11, 0),  # the sowing starts today: yesterday had no campaign
        dt.datetime(2023, 12, 15, 11, 0),  # winter
    ],
)
def test_daily_report_is_skipped_out_of_season(local_time: dt.datetime) -> None:
    requests, skipped = _tick(DAILY, local_time)
    assert requests == []
    assert skipped is not None
    assert "no campaign" in skipped
    assert (local_time.date() - dt.timedelta(days=1)).isoformat() in skipped


def test_weekly_report_on_monday_is_for_the_week_before_one_run_per_ministry() -> None:
    now = dt.datetime(2023, 10, 2, 9, 0)  # Monday of ISO week 40
    requests, skipped = _tick(WEEKLY, now)
    assert skipped is None
    assert len(requests) == len(ministry_ids()) == 9
    periods = {period_of_partition(WEEKLY, request.partition_key) for request in requests}
    assert {period.label for period, _ in periods} == {"2023-W39"}
    assert {period.start for period, _ in periods} == {dt.date(2023, 9, 25)}
    assert {ministry for _, ministry in periods} == set(ministry_ids())
    assert len({request.run_key for request in requests}) == len(requests)
    _assert_partitions_exist(WEEKLY, requests, now)


def test_weekly_report_across_the_new_year_takes_the_iso_week() -> None:
    requests, _ = _tick(WEEKLY, dt.datetime(2024, 1, 1, 9, 0))  # Monday, ISO 2024-W01
    period, _ = period_of_partition(WEEKLY, requests[0].partition_key)
    assert (period.label, period.start, period.end) == (
        "2023-W52",
        dt.date(2023, 12, 25),
        dt.date(2023, 12, 31),
    )


@pytest.mark.parametrize(
    ("local_time", "partition_key"),
    [
        (dt.datetime(2023, 10, 2, 9, 0), "2023-09-01"),
        (dt.datetime(2024, 1, 2, 9, 0), "2023-12-01"),
        (dt.datetime(2024, 3, 2, 9, 0), "2024-02-01"),
    ],
)
def test_monthly_report_on_the_second_is_for_the_month_before(
    local_time: dt.datetime, partition_key: str
) -> None:
    requests, skipped = _tick(MONTHLY, local_time)
    assert skipped is None
    assert [request.partition_key for request in requests] == [partition_key]
    _assert_partitions_exist(MONTHLY, requests, local_time)


def test_periods_and_their_labels() -> None:
    assert period_containing(WEEKLY, dt.date(2023, 10, 1)).label == "2023-W39"
    february = period_containing(MONTHLY, dt.date(2024, 2, 10))
    assert (february.label, february.end) == ("2024-02", dt.date(2024, 2, 29))
    # The demo's day, 1 October 2023 (a Sunday): the week still runs, September is complete.
    demo_day = dt.date(2023, 10, 1)
    assert latest_complete_period(DAILY, demo_day).label == "2023-09-30"
    assert latest_complete_period(WEEKLY, demo_day).label == "2023-W38"
    assert latest_complete_period(MONTHLY, demo_day).label == "2023-09"
    with pytest.raises(ValueError, match="unknown report"):
        period_containing("yearly", demo_day)


def test_the_partitioned_reports_are_those_the_renderer_knows() -> None:
    from warehouse.reports import render

    assert render.REPORT_KINDS == REPORT_KINDS
    for kind in REPORT_KINDS:
        period = period_containing(kind, dt.date(2023, 9, 20))
        assert render.period_label(kind, period.start) == period.label
        assert render.period_end_of(kind, period.start) == period.end
