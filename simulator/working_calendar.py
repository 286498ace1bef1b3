"""Turkmenistan's working calendar as the simulated systems live by it.

The days off by law (public holidays, and the days off they move to when they fall on a weekend)
are read from the warehouse's own reference seed, ``ref_public_holidays.csv``, so that a system
that does not work on a holiday and the warehouse that judges it agree on which days those are.
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import cache

from maglumat.settings import DBT_PROJECT_DIR

HOLIDAYS_SEED = DBT_PROJECT_DIR / "seeds" / "reference" / "ref_public_holidays.csv"


@cache
def _days_off() -> dict[dt.date, str]:
    with HOLIDAYS_SEED.open(encoding="utf-8", newline="") as handle:
        return {
            dt.date.fromisoformat(row["holiday_date"]): row["day_type"]
            for row in csv.DictReader(handle)
        }


def public_holidays() -> frozenset[dt.date]:
    """The public holidays themselves (not the days off moved from a weekend)."""
    return frozenset(day for day, kind in _days_off().items() if kind == "public_holiday")


def days_off_by_law() -> frozenset[dt.date]:
    """Public holidays and the transferred days off."""
    return frozenset(_days_off())


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, not a day off by law."""
    return day.weekday() < 5 and day not in _days_off()
