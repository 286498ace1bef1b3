"""Everything that asks "what day is it" gives the Aşgabat answer at the hardest hours.

Aşgabat is UTC+5 all year, so from 19:00 to 24:00 UTC its date is the next day's. Each case below
runs at five hard instants, once with the process clock faked (time-machine: what a machine whose
clock reads that instant does) and once with the clock given as an input (``MAGLUMAT_CLOCK``:
what a replay does). The expected dates and periods are written out by hand for each instant,
not computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import polars as pl
import pytest
import time_machine

from maglumat import clock
from maglumat.catalogue import Delivery, system_named
from maglumat.settings import MaglumatPaths
from pipelines.cli import main
from pipelines.definitions import defs
from pipelines.freshness import assess
from pipelines.reporting.assets import report_job_name
from pipelines.reporting.periods import (
    DAILY,
    MONTHLY,
    WEEKLY,
    latest_complete_period,
    ministry_ids,
    period_of_partition,
)
from pipelines.reporting.schedules import schedule_name
from pipelines.reporting.snapshots import snapshot_for_period
from pipelines.resources import MaglumatResource
from quality.gate import validate_batch
from quality.suites import load_suite
from tests.support import write_answer
from warehouse.client import Warehouse
from warehouse.snapshot import SnapshotNotFoundError, publication_time, publish


@dataclass(frozen=True)
class HardInstant:
    """An instant in UTC and what a person in Aşgabat calls it."""

    utc: str
    local_day: dt.date  # the date on a wall calendar in Aşgabat at that instant
    last_day: str  # the latest complete day, ISO week and month there
    last_week: str
    last_week_monday: dt.date
    last_month: str


INSTANTS = {
    # 00:30 on Tuesday 8 December in Aşgabat
    "19:30 UTC, past midnight in Aşgabat": HardInstant(
        "2026-12-07T19:30:00Z", dt.date(2026, 12, 8), "2026-12-07", "2026-W49",
        dt.date(2026, 11, 30), "2026-11",
    ),
    # 04:59 on 1 December in Aşgabat: November is over there
    "23:59 UTC on the last day of a month": HardInstant(
        "2026-11-30T23:59:00Z", dt.date(2026, 12, 1), "2026-11-30", "2026-W48",
        dt.date(2026, 11, 23), "2026-11",
    ),
    # 04:30 on 1 January 2027 (a Friday) in Aşgabat
    "31 December 23:30 UTC": HardInstant(
        "2026-12-31T23:30:00Z", dt.date(2027, 1, 1), "2026-12-31", "2026-W52",
        dt.date(2026, 12, 21), "2026-12",
    ),
    # 00:30 on 1 March 2028 in Aşgabat: the leap day has just ended
    "29 February of a leap year": HardInstant(
        "2028-02-29T19:30:00Z", dt.date(2028, 3, 1), "2028-02-29", "2028-W08",
        dt.date(2028, 2, 21), "2028-02",
    ),
    # 00:10 on Monday 7 December in Aşgabat, still Sunday in UTC: the weekly report's hour
    "Monday 00:10 in Aşgabat": HardInstant(
        "2026-12-06T19:10:00Z", dt.date(2026, 12, 7), "2026-12-06", "2026-W49",
        dt.date(2026, 11, 30), "2026-11",
    ),
}  # fmt: skip

HOW_THE_CLOCK_IS_SET = ("system clock faked", "MAGLUMAT_CLOCK")


@pytest.fixture(
    params=[(name, how) for name in INSTANTS for how in HOW_THE_CLOCK_IS_SET],
    ids=lambda param: f"{param[0]} ({param[1]})",
)
def instant(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[HardInstant]:
    name, how = request.param
    hard = INSTANTS[name]
    monkeypatch.delenv(clock.ANCHOR_ENV, raising=False)
    if how == "MAGLUMAT_CLOCK":
        monkeypatch.setenv(clock.CLOCK_ENV, hard.utc)
        yield hard
        return
    monkeypatch.delenv(clock.CLOCK_ENV, raising=False)
    with time_machine.travel(hard.utc, tick=True):
        yield hard


def _moment(hard: HardInstant) -> dt.datetime:
    return dt.datetime.fromisoformat(hard.utc)


def _days(day: dt.date, days: int) -> dt.date:
    return day + dt.timedelta(days=days)


def _at_local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.LOCAL_TIMEZONE)


def test_the_clock_tells_the_aşgabat_date(instant: HardInstant) -> None:
    now = clock.now()
    assert now.tzinfo is not None
    assert dt.timedelta(0) <= now - _moment(instant) < dt.timedelta(minutes=1)
    assert clock.today() == instant.local_day
    assert clock.local_date(now) == instant.local_day
    assert (
        clock.end_of_local_day(instant.local_day)
        > now
        >= clock.start_of_local_day(instant.local_day)
    )
    # The Dagster resource judges at the same instant unless a run sets its own clock.
    assert dt.timedelta(0) <= MaglumatResource().now() - now < dt.timedelta(minutes=1)


def _publish_with_clock_at(
    paths: MaglumatPaths, value: int, moment: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Publish a snapshot holding ``value`` as the clock reads ``moment``."""
    with monkeypatch.context() as patched:
        patched.setenv(clock.CLOCK_ENV, moment.isoformat())
        write_answer(paths, value)
        return publish(paths, retention_days=365 * 100).snapshot_id


def test_as_of_today_reads_the_snapshot_published_today(
    instant: HardInstant,
    maglumat_home: MaglumatPaths,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    yesterday = _days(instant.local_day, -1)
    # 23:00 yesterday in Aşgabat: the same UTC date as the current instant, a day earlier there
    earlier = _publish_with_clock_at(maglumat_home, 1, _at_local(yesterday, 23), monkeypatch)
    write_answer(maglumat_home, 2)
    current = publish(maglumat_home, retention_days=365 * 100).snapshot_id
    assert dt.timedelta(0) <= publication_time(current) - _moment(instant) < dt.timedelta(minutes=1)

    def answer(as_of: dt.date | str | None) -> int:
        with Warehouse(maglumat_home.home, as_of=as_of) as warehouse:
            return warehouse.sql("select value from marts.answer").item()

    assert answer(None) == 2
    assert answer(clock.today()) == 2
    assert answer(instant.local_day.isoformat()) == 2
    assert answer(yesterday) == 1
    with pytest.raises(SnapshotNotFoundError, match="no snapshot was in force"):
        answer(_days(yesterday, -1))

    # The command line an economist types: the same answer, and it names the snapshot.
    assert (
        main(["sql", "--as-of", instant.local_day.isoformat(), "select value from marts.answer"])
        == 0
    )
    printed = capsys.readouterr()
    assert "2" in printed.out.split()
    assert f"[sql] snapshot {current}, in force at {instant.local_day.isoformat()}" in printed.err
    assert main(["sql", "--as-of", yesterday.isoformat(), "select value from marts.answer"]) == 0
    assert f"[sql] snapshot {earlier}," in capsys.readouterr().err


def test_a_report_reads_the_snapshot_of_its_period_by_the_aşgabat_calendar(
    instant: HardInstant, maglumat_home: MaglumatPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_days_ago = _days(instant.local_day, -2)
    earlier = _publish_with_clock_at(
        maglumat_home, 1, _at_local(_days(instant.local_day, -1), 23), monkeypatch
    )
    write_answer(maglumat_home, 2)
    current = publish(maglumat_home, retention_days=365 * 100)
    # Published just now, which is already today in Aşgabat (yesterday in UTC).
    published = dt.datetime.fromisoformat(current.metadata["published_at"])
    assert clock.local_date(published) == instant.local_day

    # A period that ended two days ago has a day of grace: yesterday's snapshot, not today's.
    choice = snapshot_for_period(maglumat_home, two_days_ago)
    assert choice.snapshot.snapshot_id == earlier
    assert f"the latest on or before {_days(two_days_ago, 1).isoformat()}" in choice.reason
    # A period that ended yesterday is read from today's snapshot.
    assert snapshot_for_period(
        maglumat_home, _days(instant.local_day, -1)
    ).snapshot.snapshot_id == (current.snapshot_id)
    metadata = json.loads((current.path.parent / "snapshot.json").read_text(encoding="utf-8"))
    assert metadata["published_at"] == current.metadata["published_at"]


def test_the_latest_complete_report_periods(instant: HardInstant) -> None:
    today = clock.today()
    assert latest_complete_period(DAILY, today).label == instant.last_day
    assert latest_complete_period(WEEKLY, today).label == instant.last_week
    assert latest_complete_period(WEEKLY, today).start == instant.last_week_monday
    assert latest_complete_period(MONTHLY, today).label == instant.last_month


def _tick(kind: str) -> dg.ScheduleExecutionData:
    """A tick of the report schedule now, as the daemon makes it: at a UTC instant."""
    schedule = defs.resolve_schedule_def(schedule_name(kind))
    context = dg.build_schedule_context(
        scheduled_execution_time=clock.now(), repository_def=defs.get_repository_def()
    )
    return schedule.evaluate_tick(context)


def test_the_report_schedules_ask_for_the_periods_that_ended(instant: HardInstant) -> None:
    weekly = _tick(WEEKLY)
    periods = {period_of_partition(WEEKLY, r.partition_key) for r in weekly.run_requests or []}
    assert {period.label for period, _ in periods} == {instant.last_week}
    assert {ministry for _, ministry in periods} == set(ministry_ids())

    monthly = _tick(MONTHLY)
    assert [r.partition_key for r in monthly.run_requests or []] == [f"{instant.last_month}-01"]

    # No campaign is under way in these years: the daily report skips, naming the right day.
    daily = _tick(DAILY)
    assert not daily.run_requests
    assert f"no campaign under way on {instant.last_day}" in (daily.skip_message or "")

    # Dagster's own partitions, in Aşgabat time, agree that these periods have ended.
    for kind, data in ((WEEKLY, weekly), (MONTHLY, monthly)):
        partitions = defs.resolve_job_def(report_job_name(kind)).partitions_def
        assert partitions is not None
        keys = set(partitions.get_partition_keys(current_time=clock.now()))
        assert {r.partition_key for r in data.run_requests or []} <= keys


DAILY_BY_TEN = Delivery(every="day", expected_by="10:00", timezone="Asia/Ashgabat", grace_hours=2)


def test_a_daily_system_is_late_by_the_aşgabat_deadline(instant: HardInstant) -> None:
    now = MaglumatResource().now()
    yesterday = _days(instant.local_day, -1)
    # It is just past midnight in Aşgabat: yesterday's 10:00 deadline (plus grace) has passed,
    # so the data due at the deadline before it must have come since then.
    delivered_yesterday = _at_local(yesterday, 9)
    assert not assess("agri", DAILY_BY_TEN, delivered_yesterday, now).is_late
    delivered_after_the_deadline_before = _at_local(_days(yesterday, -1), 11)
    assert not assess("agri", DAILY_BY_TEN, delivered_after_the_deadline_before, now).is_late
    silent_since = _at_local(_days(yesterday, -1), 9)
    freshness = assess("agri", DAILY_BY_TEN, silent_since, now)
    assert freshness.is_late
    assert freshness.due_since == _at_local(_days(yesterday, -1), 10)


def test_today_in_aşgabat_is_not_in_the_future_for_the_gate(instant: HardInstant) -> None:
    suite = load_suite(
        system_named("agriculture_campaign"), "daily_reports"
    )  # resolved at the clock's now
    now = clock.now()
    stamp = "%Y-%m-%d %H:%M:%S"
    days = [_days(instant.local_day, -1), instant.local_day, _days(instant.local_day, 1)]
    frame = pl.DataFrame(
        {
            "report_id": [1, 2, 3, 4],
            "district_code": ["TM-A-01"] * 4,
            "crop": ["wheat"] * 4,
            "operation": ["harvest"] * 4,
            "report_date": [d.isoformat() for d in days] + [days[0].isoformat()],
            "sown_ha": [0.0] * 4,
            "harvested_ha": [500.0] * 4,
            "harvested_tonnes": [1000.0] * 4,
            "reported_by": ["office"] * 4,
            "submitted_at": [
                (now - dt.timedelta(minutes=1)).strftime(stamp),
                (now - dt.timedelta(minutes=1)).strftime(stamp),
                (now - dt.timedelta(minutes=1)).strftime(stamp),
                (now + dt.timedelta(hours=1)).strftime(stamp),
            ],
        }
    )
    verdict, _ = validate_batch("b-clock", frame, suite)
    failures = {(f.row_number, f.field) for f in verdict.row_failures}
    # Today's reports (still yesterday in UTC) load; tomorrow's and an hour ahead are future.
    assert failures == {(3, "report_date"), (4, "submitted_at")}


def test_a_process_started_later_shares_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAGLUMAT_CLOCK is one clock for a tree of processes (the CLI, Dagster, test workers)."""
    import subprocess
    import sys

    monkeypatch.setenv(clock.CLOCK_ENV, INSTANTS["31 December 23:30 UTC"].utc)
    monkeypatch.delenv(clock.ANCHOR_ENV, raising=False)
    before = clock.now()
    child = subprocess.run(
        [sys.executable, "-c", "from maglumat import clock; print(clock.now().isoformat())"],
        capture_output=True,
        text=True,
        check=True,
    )
    after = clock.now()
    in_child = dt.datetime.fromisoformat(child.stdout.strip())
    assert before <= in_child <= after
    assert clock.local_date(in_child) == dt.date(2027, 1, 1)


def test_a_clock_without_a_zone_is_refused_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(clock.CLOCK_ENV, "2026-12-31T23:30")
    with pytest.raises(
        clock.ClockError, match="MAGLUMAT_CLOCK='2026-12-31T23:30' has no time zone"
    ):
        clock.now()
    monkeypatch.setenv(clock.CLOCK_ENV, "tomorrow")
    with pytest.raises(clock.ClockError, match="is not an ISO 8601 instant"):
        clock.today()
