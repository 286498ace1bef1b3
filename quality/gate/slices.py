"""A batch too large to hold, through the gate a slice at a time, with the same verdict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from maglumat import clock
from quality.contract import cast_to_contract
from quality.gate.expectations import (
    _UNIQUENESS_RULES,
)
from quality.gate.rules import (
    _daily_volume_problems,
    _rows_by_day,
    _volume_failure,
)
from quality.gate.validate import (
    validate_batch,
)
from quality.gate.verdict import (
    _OUTLIER_NAMES,
    BAD_ROW_SHARE_RULE,
    DAILY_VOLUME_RULE,
    HISTORY_VOLUME_RULE,
    SCHEMA_RULE,
    TYPE_RULE,
    VOLUME_RULE,
    BatchFailure,
    GateVerdict,
    RowFailure,
)
from quality.suites import Expectation, TableSuite, VolumeRule

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
