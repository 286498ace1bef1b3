"""How the ``maglumat`` command reads its arguments: each wrong one is one line naming it, what
was wrong and what is allowed, and exit status 2; never a traceback."""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import re
import sys
from typing import NoReturn


class UsageError(ValueError):
    """A user's argument or environment is wrong; the message is the whole story."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line: ``maglumat report: argument --period: ...``."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(2)


def day(text: str) -> dt.date:
    """A calendar day written YYYY-MM-DD."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write YYYY-MM-DD, e.g. 2023-09-30"
        )
    year, month, number = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise argparse.ArgumentTypeError(f"{text}: there is no month {month}")
    days = calendar.monthrange(year, month)[1]
    if not 1 <= number <= days:
        month_name = dt.date(year, month, 1).strftime("%B %Y")
        raise argparse.ArgumentTypeError(f"{text}: {month_name} has {days} days")
    return dt.date(year, month, number)


def instant(text: str) -> dt.datetime:
    """A time in ISO 8601 (UTC when it names no zone), or a day (its midnight, UTC)."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        if re.match(r"\d{4}-\d{2}-\d{2}", text.strip()):
            day(text.strip()[:10])  # says what is wrong with the date, if that is it
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: write ISO 8601, e.g. 2023-10-01T06:00Z or 2023-10-01"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def day_or_time(text: str) -> str:
    """A date (the end of that day in Aşgabat) or a time (Aşgabat time unless it names a zone),
    checked here and passed on as written."""
    try:
        dt.date.fromisoformat(text.strip())
        return text.strip()
    except ValueError:
        pass
    try:
        dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a date (2023-09-12) nor a time (2023-09-12T18:00)"
        ) from None
    return text.strip()


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: at least 1")
    return value


def one_of(value: str, allowed: list[str], what: str, argument: str) -> str:
    """``value`` as the allowed spelling (any case), or a UsageError listing the allowed."""
    for candidate in allowed:
        if candidate.casefold() == value.strip().casefold():
            return candidate
    raise UsageError(f"{argument} {value!r}: no such {what}; one of {', '.join(allowed)}")
