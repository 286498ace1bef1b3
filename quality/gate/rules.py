"""The gate's own rules beside the expectations: readable rows, text encoding, volumes, balances."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import statistics

import polars as pl

from quality.contract import TypeFailure, cast_to_contract
from quality.gate.expectations import (
    _CLEAN_DETAIL,
    _UNIQUENESS_RULES,
    JOINT_VALIDATION_MAX_ROWS,
    ExpectationOutcome,
    _gx_suite,
    _run_expectations,
)
from quality.gate.verdict import (
    BALANCE_RULE,
    READ_PROBLEM_COLUMN,
    READ_RULE,
    TEXT_ENCODING_RULE,
    UNREADABLE_ROW_COLUMNS,
    RowFailure,
)
from quality.suites import TableSuite


class PendingBatches:
    """Batches of one table gated in one run: Great Expectations validates them together.

    GX's cost is mostly per validation (building the metric graph of every expectation), not per
    row, so a table with many small batches (a file inbox) pays it once. Every expectation the
    suites use is row by row, and a batch none of whose rows GX flags in the joint validation
    has no failure when validated alone either: it gets clean results without a validation of
    its own. A batch with a flagged row, a group where an expectation reports no row indices
    (a table-level rule, an error), a big batch or one of other columns is validated alone, so
    verdicts and reports are the same as batch by batch (uniqueness, in particular, is judged
    within the batch).
    """

    def __init__(self, suite: TableSuite, frames: dict[str, pl.DataFrame]) -> None:
        self.suite = suite
        self.frames = frames  # landed, by batch id, in gating order
        self._cast: dict[str, tuple[pl.DataFrame, list[TypeFailure]]] = {}
        self._outcomes: dict[str, list[ExpectationOutcome] | None] | None = None

    def cast(self, batch_id: str) -> tuple[pl.DataFrame, list[TypeFailure]]:
        if batch_id not in self._cast:
            self._cast[batch_id] = cast_to_contract(self.frames[batch_id], self.suite.columns)
        return self._cast[batch_id]

    def outcomes(self, batch_id: str) -> list[ExpectationOutcome] | None:
        """Clean results for ``batch_id`` from the joint validation, or None: validate alone."""
        if self._outcomes is None:
            self._outcomes = self._validate_together()
        return self._outcomes.get(batch_id)

    def _validate_together(self) -> dict[str, list[ExpectationOutcome] | None]:
        by_columns: dict[tuple[str, ...], list[str]] = {}
        for batch_id in self.frames:
            typed, _ = self.cast(batch_id)
            if 0 < typed.height <= JOINT_VALIDATION_MAX_ROWS:
                by_columns.setdefault(tuple(typed.columns), []).append(batch_id)
        found: dict[str, list[ExpectationOutcome] | None] = {}
        for columns, batch_ids in by_columns.items():
            if len(batch_ids) < 2:
                continue  # alone anyway
            together = pl.concat([self.cast(batch_id)[0] for batch_id in batch_ids])
            outcomes = _run_expectations(self.suite, together, _gx_suite(self.suite, list(columns)))
            del together
            if any("unexpected_index_list" not in o.detail for o in outcomes):
                continue
            ends = list(itertools.accumulate(self.cast(b)[0].height for b in batch_ids))
            flagged_by: dict[int, set[ExpectationOutcome]] = {}
            for outcome in outcomes:
                for index in outcome.detail["unexpected_index_list"]:
                    if isinstance(index, dict):  # not a plain row: cannot be split by batch
                        for position in range(len(batch_ids)):
                            flagged_by.setdefault(position, set()).add(outcome)
                        break
                    position = bisect.bisect_right(ends, int(index))
                    flagged_by.setdefault(position, set()).add(outcome)
            for position, batch_id in enumerate(batch_ids):
                flagged = flagged_by.get(position, set())
                if all(self._unique_within(batch_id, outcome) for outcome in flagged):
                    found[batch_id] = [
                        ExpectationOutcome(o.rule, o.field, True, _CLEAN_DETAIL) for o in outcomes
                    ]
        return found

    def _unique_within(self, batch_id: str, outcome: ExpectationOutcome) -> bool:
        """Whether a uniqueness rule flagged rows of ``batch_id`` only for values repeated in
        other batches: the batch alone has no duplicate key at all (as pandas, which GX uses,
        sees the keys; nulls count as equal here, so this errs towards validating alone)."""
        if outcome.rule not in _UNIQUENESS_RULES:
            return False
        matching = [
            e
            for e in self.suite.expectations
            if e.name == outcome.rule and e.field == outcome.field
        ]
        if not matching or any(set(e.kwargs) - {"column", "column_list"} for e in matching):
            return False  # options such as `mostly` or `ignore_row_if`: let GX judge alone
        keys = self.cast(batch_id)[0].select(outcome.field.split(",")).to_pandas()
        return not bool(keys.duplicated(keep=False).any())


def _value(frame: pl.DataFrame, column: str, index: int) -> str | None:
    if column not in frame.columns:
        return None
    value = frame.get_column(column)[index]
    return None if value is None else str(value)


# Text decoded with the wrong code page: UTF-8 read as cp1251 ("AЕџgabat") or as Latin-1
# ("GÃ¶kdepe"), a replacement character, or a word that mixes Latin and Cyrillic letters
# ("эьplьgi": cp1250 read as cp1251). Turkmen is written in Latin, Russian in Cyrillic, and
# neither mixes the two inside a word.
_MOJIBAKE = (
    r"\ufffd"
    r"|[ГДЕРС][\u0402-\u040f\u0452-\u045f\u00a0-\u00bf\u0490\u0491\u2013-\u2122€]"
    r"|[ÃÅÄÐÑ][\u0080-\u00bf]"
    r"|[A-Za-z][А-Яа-яЁё]|[А-Яа-яЁё][A-Za-z]"
)


def _mojibake_failures(frame: pl.DataFrame, suite: TableSuite) -> list[RowFailure]:
    failures = []
    for column, kind in suite.columns.items():
        if kind != "string" or column not in frame.columns or column in UNREADABLE_ROW_COLUMNS:
            continue
        values = frame.get_column(column)
        if values.dtype != pl.String:
            continue
        garbled = values.str.contains(_MOJIBAKE).fill_null(False)
        for index in garbled.arg_true().to_list():
            failures.append(RowFailure(index + 1, TEXT_ENCODING_RULE, column, values[index]))
    return failures


def _read_problems(frame: pl.DataFrame) -> list[RowFailure]:
    """The rows an extractor could read only in part, each with the field it could not read."""
    if READ_PROBLEM_COLUMN not in frame.columns:
        return []
    problems = frame.get_column(READ_PROBLEM_COLUMN)
    failures = []
    for index in problems.is_not_null().arg_true().to_list():
        problem = json.loads(problems[index])
        failures.append(
            RowFailure(
                index + 1,
                f"{READ_RULE}: {problem['reason']}",
                str(problem["field"]),
                problem.get("value"),
            )
        )
    return failures


def _volume_failure(row_count: int, suite: TableSuite, history: list[int]) -> str | None:
    rule = suite.volume
    recent = history[-rule.history_batches :]
    if len(recent) < rule.min_history:
        return None
    typical = statistics.median(recent)
    ratio = row_count / typical if typical else float("inf")
    if rule.min_ratio <= ratio <= rule.max_ratio:
        return None
    return (
        f"{row_count} rows against a median of {typical:g} in the last {len(recent)} batches"
        f" (ratio {ratio:.2f}, allowed {rule.min_ratio:g} to {rule.max_ratio:g})"
    )


def balance_failures(typed: pl.DataFrame, suite: TableSuite) -> list[RowFailure]:
    """Rows that break a stock identity of the suite (closing = opening + received - consumed)."""
    failures = []
    for rule in suite.balances:
        columns = [rule.total, *rule.plus, *rule.minus]
        if any(column not in typed.columns for column in columns):
            continue
        expected = pl.sum_horizontal(rule.plus) - pl.sum_horizontal(rule.minus or [pl.lit(0)])
        broken = typed.select(
            (pl.all_horizontal(pl.col(columns).is_not_null()))
            & ((pl.col(rule.total) - expected).abs() > rule.tolerance)
        ).to_series()
        for index in broken.arg_true().to_list():
            row = typed.row(index, named=True)
            sums = " + ".join(f"{row[c]:g}" for c in rule.plus)
            sums += "".join(f" - {row[c]:g}" for c in rule.minus)
            failures.append(
                RowFailure(index + 1, BALANCE_RULE, rule.total, f"{row[rule.total]:g} != {sums}")
            )
    return failures


def _one_reason_for_unreadable_rows(
    failures: list[RowFailure], frame: pl.DataFrame
) -> list[RowFailure]:
    """A row the source's reader could not read at all fails for that reason only: its empty
    fields are what follows from it, not further findings for the steward."""
    unreadable: set[int] = set()
    for column in UNREADABLE_ROW_COLUMNS:
        if column in frame.columns:
            found = frame.get_column(column).is_not_null().arg_true().to_list()
            unreadable.update(index + 1 for index in found)
    if not unreadable:
        return failures
    return [
        failure
        for failure in failures
        if failure.row_number not in unreadable or failure.field in UNREADABLE_ROW_COLUMNS
    ]


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _daily_volume_failures(
    typed: pl.DataFrame,
    suite: TableSuite,
    key: tuple[str, ...],
    loaded_days: dict[dt.date, int],
) -> list[str]:
    """Days the batch brings for the first time with far fewer rows than the same weekday's
    median over the last weeks (``loaded_days``: rows by day already in the warehouse)."""
    rule = suite.daily_volume
    if rule is None or rule.date_column not in typed.columns or typed.is_empty():
        return []
    return _daily_volume_problems(_rows_by_day(typed, suite, key), suite, loaded_days)


def _rows_by_day(
    typed: pl.DataFrame, suite: TableSuite, key: tuple[str, ...]
) -> dict[dt.date, int]:
    """Rows (distinct business keys) of the batch by day of the daily volume rule."""
    rule = suite.daily_volume
    if rule is None or rule.date_column not in typed.columns or typed.is_empty():
        return {}
    counted = [column for column in key if column in typed.columns] or typed.columns
    days = (
        typed.filter(pl.col(rule.date_column).is_not_null())
        .unique(subset=counted)
        .group_by(rule.date_column)
        .len()
    )
    return dict(days.iter_rows())


def _daily_volume_problems(
    rows_by_day: dict[dt.date, int], suite: TableSuite, loaded_days: dict[dt.date, int]
) -> list[str]:
    rule = suite.daily_volume
    assert rule is not None
    problems = []
    for day, rows in sorted(rows_by_day.items()):
        if day in loaded_days:
            continue  # sent again: a correction, judged by its rows, not its count
        same_weekday = [
            loaded_days[earlier]
            for weeks in range(1, rule.history_weeks + 1)
            if (earlier := day - dt.timedelta(weeks=weeks)) in loaded_days
        ]
        if len(same_weekday) < rule.min_history:
            continue
        usual = statistics.median(same_weekday)
        if rows < rule.min_ratio * usual:
            problems.append(
                f"{day} ({_WEEKDAYS[day.weekday()]}): {rows} row{'' if rows == 1 else 's'}"
                f" against a median of {usual:g}"
                f" on the {len(same_weekday)} {_WEEKDAYS[day.weekday()]}s before it"
                f" (at least {rule.min_ratio:.0%} expected; a file sent in part?)"
            )
    return problems
