"""Delivery schedules: when a sector system counts as late."""

import datetime as dt

from maglumat.catalogue import Delivery
from pipelines.freshness import assess

ASHGABAT = dt.timezone(dt.timedelta(hours=5))
DAILY = Delivery(every="day", expected_by="10:00", timezone="Asia/Ashgabat", grace_hours=2)
MONTHLY = Delivery(
    every="month", expected_by="18:00", timezone="Asia/Ashgabat", grace_hours=0, day_of_month=5
)


def _at(day: int, hour: int, month: int = 10) -> dt.datetime:
    return dt.datetime(2023, month, day, hour, tzinfo=ASHGABAT)


def test_a_daily_system_that_delivered_before_todays_deadline_is_on_time() -> None:
    assert not assess("agri", DAILY, _at(2, 8), _at(2, 15)).is_late
    # The delivery before yesterday's deadline was the day before's data: today's is missing.
    assert assess("agri", DAILY, _at(1, 9), _at(2, 15)).is_late


def test_a_daily_system_silent_for_a_whole_period_is_late() -> None:
    freshness = assess("agri", DAILY, _at(1, 9), _at(3, 15))
    assert freshness.is_late
    assert freshness.message.startswith("agri: LATE; last delivery 2023-10-01T09:00+05:00")


def test_grace_after_the_deadline_is_respected() -> None:
    # At 11:00 on the 3rd the deadline of 10:00 has passed, but the 2 h grace has not.
    assert not assess("agri", DAILY, _at(1, 11), _at(3, 11)).is_late
    assert assess("agri", DAILY, _at(1, 11), _at(3, 13)).is_late


def test_never_delivered_is_late() -> None:
    assert assess("agri", DAILY, None, _at(3, 13)).is_late


def test_monthly_systems_are_due_on_their_day() -> None:
    # September's form was due on 5 October; August's on 5 September.
    delivered_in_september = _at(4, 12, month=9)
    assert not assess("chem", MONTHLY, delivered_in_september, _at(5, 12)).is_late
    assert assess("chem", MONTHLY, delivered_in_september, _at(6, 12, month=11)).is_late
    assert not assess("chem", MONTHLY, _at(5, 17), _at(20, 12)).is_late
