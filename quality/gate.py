"""Run a source's expectation suite on one landed batch and give the verdict.

Two levels of failure:

* row level: a value fails a column rule (or does not convert to its contract type). The row is
  quarantined with the rule, the field and the value; the rest of the batch loads.
* batch level: the schema drifted, the batch is too small, or too many rows failed. The whole
  batch is held: nothing of it loads and what depends on it is blocked.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import itertools
import json
import os
import statistics
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from typing import Any

import numpy as np
import polars as pl

from maglumat import clock
from quality.contract import TypeFailure, cast_to_contract
from quality.outliers import find_outliers
from quality.suites import Expectation, TableSuite, VolumeRule

SCHEMA_RULE = "expect_table_columns_to_match_set"
VOLUME_RULE = "expect_table_row_count_to_be_between"
TYPE_RULE = "type_contract"
BAD_ROW_SHARE_RULE = "max_bad_row_share"
HISTORY_VOLUME_RULE = "volume_against_recent_batches"
DAILY_VOLUME_RULE = "daily_volume_against_same_weekday"
OUTLIER_RULE = "outlier_modified_zscore"
SEASONAL_OUTLIER_RULE = "outlier_against_last_year"
RECENT_OUTLIER_RULE = "outlier_against_recent_median"
BALANCE_RULE = "stock_balance"
# Each kind of outlier rule: its name in the quarantine, and what its score measures.
_OUTLIER_NAMES = {
    "zscore": (OUTLIER_RULE, "modified z-score"),
    "seasonal": (SEASONAL_OUTLIER_RULE, "ratio to the same period a year before"),
    "ratio": (RECENT_OUTLIER_RULE, "ratio to the recent median"),
}
READ_RULE = "read_problem"
TEXT_ENCODING_RULE = "text_encoding"
# Written by an extractor beside a row it could read only in part (a file inbox): JSON
# ``{"field": .., "value": .., "reason": ..}``. Not a source column: the schema check ignores it.
READ_PROBLEM_COLUMN = "_read_problem"
# Columns of a row the extractor could not read at all (an event log line that is not JSON):
# such a row is quarantined for that reason alone, not once more for every empty field.
UNREADABLE_ROW_COLUMNS = ("parse_error",)


@dataclass(frozen=True)
class RowFailure:
    row_number: int  # 1-based row of the landed file
    rule: str
    field: str
    value: str | None


@dataclass(frozen=True)
class BatchFailure:
    rule: str
    detail: str


@dataclass
class GateVerdict:
    batch_id: str
    suite: str
    checked_at: str
    row_count: int
    row_failures: list[RowFailure] = field(default_factory=list)
    batch_failures: list[BatchFailure] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_held(self) -> bool:
        return bool(self.batch_failures)

    @property
    def quarantined_rows(self) -> set[int]:
        return {failure.row_number for failure in self.row_failures}

    @property
    def status(self) -> str:
        if self.is_held:
            return "held"
        return "loaded_with_quarantine" if self.row_failures else "loaded"

    def summary(self) -> str:
        if self.is_held:
            reasons = "; ".join(f"{f.rule}: {f.detail}" for f in self.batch_failures)
            return f"batch {self.batch_id} held ({self.suite}): {reasons}"
        return (
            f"batch {self.batch_id} passed ({self.suite}): {self.row_count} rows, "
            f"{len(self.quarantined_rows)} quarantined"
        )

    def to_json(self) -> str:
        document = asdict(self)
        document["status"] = self.status
        return json.dumps(document, indent=2, ensure_ascii=False, default=str)


@cache
def _gx_context() -> Any:
    # GX is imported only where a batch is validated: the import alone costs some 3 s.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _gx_suite(suite: TableSuite, present_columns: list[str]) -> Any:
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    _gx_context()  # a suite can only be made inside a context
    gx_suite = gx.ExpectationSuite(name=suite.name)
    for expectation in suite.expectations:
        needed = expectation.kwargs.get("column_list") or [expectation.kwargs.get("column")]
        if any(column and column not in present_columns for column in needed):
            continue  # a missing column is a schema failure already; its rules cannot run
        implementation = get_expectation_impl(expectation.name)
        gx_suite.add_expectation(implementation(**expectation.kwargs))
    return gx_suite


@cache
def _gx_datasource(source: str) -> Any:
    # Made once: making it again (add_or_update) would drop the assets of the other tables.
    return _gx_context().data_sources.add_or_update_pandas(f"landing_{source}")


@cache
def _gx_batch_definition(source: str, table: str) -> Any:
    # One dataframe asset per table for the life of the process: adding and deleting an asset
    # per batch rewrites the context's configuration each time.
    asset = _gx_datasource(source).add_dataframe_asset(table)
    return asset.add_batch_definition_whole_dataframe("whole_batch")


@dataclass(frozen=True, eq=False)
class ExpectationOutcome:
    """One expectation's result on one batch, as the verdict needs it from GX."""

    rule: str
    field: str
    success: bool
    detail: dict[str, Any]


def _to_pandas(typed: pl.DataFrame) -> Any:
    """The batch as GX reads it. Dates become nanosecond datetimes where they fit: GX compares
    those with a bound in one vectorised step, but any other datetime unit value by value in
    Python (seconds for half a million rows). The values, and so the results, are the same."""
    import pandas as pd

    frame = typed.to_pandas()
    for name, dtype in typed.schema.items():
        # A date beyond 1677-2262 (bad input) does not fit: left as it is, compared slowly.
        if dtype == pl.Date:
            with contextlib.suppress(OverflowError, pd.errors.OutOfBoundsDatetime):
                frame[name] = frame[name].astype("datetime64[ns]")
    return frame


def _run_expectations(
    suite: TableSuite, typed: pl.DataFrame, gx_suite: Any | None = None
) -> list[ExpectationOutcome]:
    """Validate ``typed`` (contract types) with GX in one pass; indices are 0-based rows."""
    definition = _gx_batch_definition(suite.source, suite.table)
    batch = definition.get_batch(batch_parameters={"dataframe": _to_pandas(typed)})
    result = batch.validate(
        gx_suite if gx_suite is not None else _gx_suite(suite, typed.columns),
        result_format={"result_format": "COMPLETE"},
    )
    outcomes = []
    for outcome in result.results:
        config = outcome.expectation_config
        column = config.kwargs.get("column") or ",".join(config.kwargs.get("column_list", []))
        outcomes.append(
            ExpectationOutcome(config.type, column, bool(outcome.success), outcome.result or {})
        )
    return outcomes


# Only batches up to this size are validated together: GX's fixed cost (some 0.4 s) matters
# beside a small batch's rows, not beside a big one's, which would be validated twice if the
# joint validation flags one of its rows.
JOINT_VALIDATION_MAX_ROWS = 100_000
_UNIQUENESS_RULES = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
_CLEAN_DETAIL: dict[str, Any] = {
    "unexpected_count": 0,
    "unexpected_list": [],
    "unexpected_index_list": [],
}


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


def _balance_failures(typed: pl.DataFrame, suite: TableSuite) -> list[RowFailure]:
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


def validate_batch(
    batch_id: str,
    frame: pl.DataFrame,
    suite: TableSuite,
    history: list[int] | None = None,
    loaded: pl.DataFrame | None = None,
    pending: PendingBatches | None = None,
    business_key: tuple[str, ...] = (),
    loaded_days: dict[dt.date, int] | None = None,
) -> tuple[GateVerdict, pl.DataFrame]:
    """Validate ``frame`` (a landed batch, as extracted) against ``suite``.

    ``history`` is the row counts of the table's earlier accepted batches, oldest first, for the
    volume rule; ``loaded`` the rows already in the warehouse, for the outlier rules; ``pending``
    the run's batches of the table (``frame`` among them), validated together by GX. Returns the
    verdict and the batch converted to its contract types.
    """
    if suite.registers:
        raise ValueError(
            f"{suite.name}: the codes of registers {sorted(suite.registers)} are read from the "
            "warehouse first (TableSuite.with_registers, as gate_and_load does)"
        )
    verdict = GateVerdict(
        batch_id=batch_id,
        suite=suite.name,
        checked_at=clock.now().isoformat(),
        row_count=frame.height,
    )
    read_problems = _read_problems(frame)
    if READ_PROBLEM_COLUMN in frame.columns:
        frame = frame.drop(READ_PROBLEM_COLUMN)
    expected, actual = set(suite.columns), set(frame.columns)
    if expected != actual:
        missing, extra = sorted(expected - actual), sorted(actual - expected)
        verdict.batch_failures.append(
            BatchFailure(SCHEMA_RULE, f"missing columns {missing}, unexpected columns {extra}")
        )
    if frame.height < suite.min_rows:
        verdict.batch_failures.append(
            BatchFailure(VOLUME_RULE, f"{frame.height} rows, at least {suite.min_rows} expected")
        )
    volume = _volume_failure(frame.height, suite, history or [])
    if volume:
        verdict.batch_failures.append(BatchFailure(HISTORY_VOLUME_RULE, volume))

    typed, type_failures = (
        pending.cast(batch_id) if pending is not None else cast_to_contract(frame, suite.columns)
    )
    verdict.row_failures.extend(
        RowFailure(f.row_number, TYPE_RULE, f.column, f.value) for f in type_failures
    )
    if loaded_days is not None:
        for problem in _daily_volume_failures(typed, suite, business_key, loaded_days):
            verdict.batch_failures.append(BatchFailure(DAILY_VOLUME_RULE, problem))
    verdict.row_failures.extend(read_problems)
    verdict.row_failures.extend(_mojibake_failures(frame, suite))
    unconvertible = {(f.row_number, f.column) for f in type_failures}
    if typed.height:
        outcomes = pending.outcomes(batch_id) if pending is not None else None
        if outcomes is None:
            outcomes = _run_expectations(suite, typed)
        for outcome in outcomes:
            rule, column, detail = outcome.rule, outcome.field, outcome.detail
            indices = detail.get("unexpected_index_list") or []
            verdict.results.append(
                {
                    "rule": rule,
                    "field": column,
                    "success": outcome.success,
                    "unexpected_count": detail.get("unexpected_count", 0),
                    "unexpected_sample": [
                        str(v) for v in (detail.get("unexpected_list") or [])[:5]
                    ],
                }
            )
            if outcome.success:
                continue
            if not indices and "unexpected_index_list" not in detail:
                verdict.batch_failures.append(BatchFailure(rule, json.dumps(detail, default=str)))
                continue
            for index in indices:
                position = int(index if not isinstance(index, dict) else index.get("index", 0))
                first_column = column.split(",")[0]
                if (position + 1, first_column) in unconvertible:
                    continue  # already quarantined as a type failure; a null here follows from it
                verdict.row_failures.append(
                    RowFailure(position + 1, rule, column, _value(frame, first_column, position))
                )
    verdict.row_failures.extend(_balance_failures(typed, suite))
    if loaded is not None and not verdict.is_held:
        for rule in suite.outliers:
            if rule.column not in typed.columns:
                continue
            name, measure = _OUTLIER_NAMES[rule.kind]
            for outlier in find_outliers(typed, loaded, rule):
                verdict.row_failures.append(
                    RowFailure(outlier.row_number, name, rule.column, f"{outlier.value:g}")
                )
                verdict.results.append(
                    {
                        "rule": name,
                        "field": rule.column,
                        "success": False,
                        "unexpected_count": 1,
                        "unexpected_sample": [
                            f"row {outlier.row_number}: {outlier.value:g} against a median of"
                            f" {outlier.median:g} ({measure} {outlier.zscore:.1f})"
                        ],
                    }
                )
    verdict.row_failures = _one_reason_for_unreadable_rows(verdict.row_failures, frame)
    if frame.height and not verdict.is_held:
        share = len(verdict.quarantined_rows) / frame.height
        if share > suite.max_bad_row_share:
            verdict.batch_failures.append(
                BatchFailure(
                    BAD_ROW_SHARE_RULE,
                    f"{share:.0%} of rows failed, at most {suite.max_bad_row_share:.0%} allowed",
                )
            )
    return verdict, typed


# A batch above this many rows is validated and loaded slice by slice (``validate_batch_in_
# slices``): memory then follows the slice, not the batch.
GATE_SLICE_ROWS = 1_000_000
_OUTLIER_RULES = {name for name, _ in _OUTLIER_NAMES.values()}

Slices = Callable[[], Iterator[tuple[int, pl.DataFrame]]]


def validate_batch_in_slices(
    batch_id: str,
    slices: Slices,
    row_count: int,
    suite: TableSuite,
    history: list[int] | None = None,
    loaded: pl.DataFrame | None = None,
    business_key: tuple[str, ...] = (),
    loaded_days: dict[dt.date, int] | None = None,
) -> GateVerdict:
    """``validate_batch`` for a batch too large to hold at once: ``slices()`` gives its landed
    rows a slice at a time, each with the number of rows before it (it is called again when
    rows repeating a key must be compared exactly).

    Each slice is validated by the same rules, Great Expectations included. What needs the
    whole batch is gathered across the slices: the row count rules, the rows of each day for
    the daily volume rule, uniqueness (keys hashed slice by slice; rows whose hashes repeat are
    then compared by value) and the share of bad rows. The verdict is the one ``validate_batch``
    gives the whole batch.
    """
    unique_rules = [e for e in suite.expectations if e.name in _UNIQUENESS_RULES]
    per_slice = replace(
        suite,
        min_rows=0,
        max_bad_row_share=1.0,
        volume=VolumeRule(),
        daily_volume=None,
        expectations=tuple(e for e in suite.expectations if e.name not in _UNIQUENESS_RULES),
    )
    verdict = GateVerdict(
        batch_id=batch_id, suite=suite.name, checked_at=clock.now().isoformat(), row_count=row_count
    )
    slice_failures: dict[tuple[str, str], BatchFailure] = {}
    results: dict[tuple[str, str], dict[str, Any]] = {}
    rows_by_day: dict[dt.date, int] = {}
    # One 8-byte hash a row per uniqueness rule, not the keys themselves.
    hashes = [_KeyHashes(row_count) for _ in unique_rules]
    for offset, landed in slices():
        part, typed = validate_batch(
            batch_id, landed, per_slice, loaded=loaded, business_key=business_key
        )
        verdict.row_failures.extend(
            replace(failure, row_number=failure.row_number + offset)
            for failure in part.row_failures
        )
        for failure in part.batch_failures:
            slice_failures.setdefault((failure.rule, failure.detail), failure)
        for result in part.results:
            _merge_result(results, result)
        for day, rows in _rows_by_day(typed, suite, business_key).items():
            rows_by_day[day] = rows_by_day.get(day, 0) + rows
        for expectation, found in zip(unique_rules, hashes, strict=True):
            columns = _unique_columns(expectation)
            if all(column in typed.columns for column in columns):
                found.add(_key_hashes(typed, columns))

    if row_count < suite.min_rows:
        verdict.batch_failures.append(
            BatchFailure(VOLUME_RULE, f"{row_count} rows, at least {suite.min_rows} expected")
        )
    volume = _volume_failure(row_count, suite, history or [])
    if volume:
        verdict.batch_failures.append(BatchFailure(HISTORY_VOLUME_RULE, volume))
    if loaded_days is not None and suite.daily_volume is not None:
        for problem in _daily_volume_problems(rows_by_day, suite, loaded_days):
            verdict.batch_failures.append(BatchFailure(DAILY_VOLUME_RULE, problem))
    verdict.batch_failures[:0] = [f for f in slice_failures.values() if f.rule == SCHEMA_RULE]
    verdict.batch_failures.extend(f for f in slice_failures.values() if f.rule != SCHEMA_RULE)

    unconvertible = {
        (failure.row_number, failure.field)
        for failure in verdict.row_failures
        if failure.rule == TYPE_RULE
    }
    for expectation, found in zip(unique_rules, hashes, strict=True):
        if not found.count:
            continue
        failures = _repeated_keys(expectation, found.repeated(), slices, suite, unconvertible)
        field_name = ",".join(_unique_columns(expectation))
        results[(expectation.name, field_name)] = {
            "rule": expectation.name,
            "field": field_name,
            "success": not failures,
            "unexpected_count": len(failures),
            "unexpected_sample": [str(failure.value) for failure in failures[:5]],
        }
        verdict.row_failures.extend(failures)
    verdict.row_failures.sort(key=lambda failure: failure.row_number)
    verdict.results = list(results.values())
    if verdict.is_held:  # as for a whole batch: a held batch is not judged for outliers
        verdict.row_failures = [f for f in verdict.row_failures if f.rule not in _OUTLIER_RULES]
        verdict.results = [r for r in verdict.results if r["rule"] not in _OUTLIER_RULES]
    if row_count and not verdict.is_held:
        share = len(verdict.quarantined_rows) / row_count
        if share > suite.max_bad_row_share:
            verdict.batch_failures.append(
                BatchFailure(
                    BAD_ROW_SHARE_RULE,
                    f"{share:.0%} of rows failed, at most {suite.max_bad_row_share:.0%} allowed",
                )
            )
    return verdict


def _merge_result(results: dict[tuple[str, str], dict[str, Any]], result: dict[str, Any]) -> None:
    """One slice's result of a rule added to the batch's."""
    key = (result["rule"], result["field"])
    if key not in results:
        results[key] = {**result, "unexpected_sample": list(result["unexpected_sample"])}
        return
    merged = results[key]
    merged["success"] = merged["success"] and result["success"]
    merged["unexpected_count"] += result["unexpected_count"]
    merged["unexpected_sample"] = (merged["unexpected_sample"] + result["unexpected_sample"])[:5]


def _unique_columns(expectation: Expectation) -> list[str]:
    return list(expectation.kwargs.get("column_list") or [expectation.kwargs["column"]])


def _key_hashes(typed: pl.DataFrame, columns: list[str]) -> pl.Series:
    """A hash of the key of each row a uniqueness rule judges, as GX judges them: a single
    column's non-null values; for a compound key, rows with at least one value
    (``ignore_row_if: all_values_are_missing``). Null where the row is not judged."""
    judged = pl.any_horizontal(pl.col(columns).is_not_null())
    return typed.select(
        pl.when(judged).then(pl.struct(columns).hash(seed=0)).alias("_hash")
    ).to_series()


class _KeyHashes:
    """The key hashes of a batch's rows, gathered slice by slice in one array."""

    def __init__(self, rows: int) -> None:
        self.values = np.empty(rows, dtype=np.uint64)
        self.count = 0

    def add(self, hashes: pl.Series) -> None:
        judged = hashes.drop_nulls().to_numpy()
        self.values[self.count : self.count + len(judged)] = judged
        self.count += len(judged)

    def repeated(self) -> set[int]:
        """Hashes that more than one row has (sorted in place: the array is spent)."""
        values = self.values[: self.count]
        values.sort()
        return {int(value) for value in np.unique(values[1:][values[1:] == values[:-1]])}


def _repeated_keys(
    expectation: Expectation,
    repeated: set[int],
    slices: Slices,
    suite: TableSuite,
    unconvertible: set[tuple[int, str]],
) -> list[RowFailure]:
    """Rows whose key another row of the batch repeats: the rows of hashes that repeat, found
    again slice by slice and compared by value (two keys may share a hash)."""
    if not repeated:
        return []
    columns = _unique_columns(expectation)
    wanted = pl.Series(sorted(repeated), dtype=pl.UInt64)
    found: list[pl.DataFrame] = []
    for offset, landed in slices():
        typed, _ = cast_to_contract(landed, suite.columns)
        positions = _key_hashes(typed, columns).is_in(wanted).fill_null(False).arg_true()
        if positions.is_empty():
            continue
        found.append(
            typed[positions]
            .select(columns)
            .with_columns(
                (positions.cast(pl.Int64) + offset + 1).alias("_row"),
                landed[positions].get_column(columns[0]).cast(pl.String).alias("_value"),
            )
        )
    if not found:
        return []
    keyed = pl.concat(found)
    repeated = keyed.filter(pl.len().over(columns) > 1).sort("_row")
    field_name = ",".join(columns)
    return [
        RowFailure(row, expectation.name, field_name, value)
        for row, value in repeated.select("_row", "_value").iter_rows()
        if (row, columns[0]) not in unconvertible
    ]
