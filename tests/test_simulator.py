"""The simulated campaign database is realistic where the warehouse's logic depends on it."""

import datetime as dt
from collections import Counter, defaultdict

from simulator import agriculture


def test_same_seed_same_records() -> None:
    assert agriculture.generate(7) == agriculture.generate(7)
    assert agriculture.generate(7).daily_reports != agriculture.generate(8).daily_reports


def test_2023_wheat_state_order_is_the_published_one() -> None:
    system = agriculture.generate()
    by_province: dict[str, float] = defaultdict(float)
    for order in system.state_orders:
        if order.order_year == 2023 and order.crop == "wheat" and order.version == 1:
            by_province[order.district_code[:4]] += order.plan_tonnes
    assert by_province == {
        "TM-A": 400_000,
        "TM-M": 345_000,
        "TM-L": 310_000,
        "TM-D": 265_000,
        "TM-B": 80_000,
    }
    assert sum(by_province.values()) == 1_400_000


def test_reports_carry_the_mess_of_a_real_campaign() -> None:
    reports = agriculture.generate().daily_reports
    keys = Counter((r.district_code, r.crop, r.operation, r.report_date) for r in reports)
    corrected = [key for key, count in keys.items() if count > 1]
    assert corrected, "some districts resubmit a corrected figure"
    late = [
        r
        for r in reports
        if dt.datetime.fromisoformat(r.submitted_at).date() - dt.date.fromisoformat(r.report_date)
        > dt.timedelta(days=1)
    ]
    assert late, "some reports arrive days late"
    cotton_days = defaultdict(set)
    for r in reports:
        if r.crop == "cotton":
            cotton_days[r.district_code].add(dt.date.fromisoformat(r.report_date))
    gaps = [
        code for code, days in cotton_days.items() if (max(days) - min(days)).days + 1 > len(days)
    ]
    assert gaps, "some districts miss a day"


def test_only_what_was_entered_by_then_is_visible() -> None:
    system = agriculture.generate()
    early = agriculture.visible_at(system, dt.datetime(2023, 6, 10, tzinfo=dt.UTC))
    later = agriculture.visible_at(system, dt.datetime(2023, 6, 20, tzinfo=dt.UTC))
    assert 0 < len(early.daily_reports) < len(later.daily_reports)
    assert all(r.submitted_at <= "2023-06-10 00:00:00" for r in early.daily_reports)


def test_the_simulated_systems_keep_the_warehouse_working_calendar() -> None:
    import csv

    from simulator import edocument, processing
    from simulator.working_calendar import HOLIDAYS_SEED, is_working_day

    with HOLIDAYS_SEED.open(encoding="utf-8", newline="") as handle:
        days_off = {dt.date.fromisoformat(row["holiday_date"]) for row in csv.DictReader(handle)}
    # Gurban baýramy 2023 was on 28 June; the 29th was a working day for the ministries.
    assert dt.date(2023, 6, 28) in days_off
    assert not is_working_day(dt.date(2023, 6, 28))
    assert is_working_day(dt.date(2023, 6, 29))
    # New Year's Day 2023 fell on a Sunday: the day off moved to Monday 2 January.
    assert not is_working_day(dt.date(2023, 1, 2))
    assert edocument.is_working_day is is_working_day
    weekdays_off = [day for day in days_off if day.weekday() < 5]
    assert weekdays_off
    assert not any(is_working_day(day) for day in weekdays_off)
    # Flour mills stop on the public holidays the warehouse knows, and only on those.
    assert not processing._operates("flour_mill", "101", dt.date(2023, 6, 28))
    assert processing._operates("flour_mill", "101", dt.date(2023, 6, 29))
