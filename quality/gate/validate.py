"""One batch through the whole gate, in memory."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from maglumat import clock
from quality.contract import cast_to_contract
from quality.gate.expectations import _run_expectations, code_list_outcomes
from quality.gate.rules import (
    PendingBatches,
    _daily_volume_failures,
    _mojibake_failures,
    _one_reason_for_unreadable_rows,
    _read_problems,
    _value,
    _volume_failure,
    balance_failures,
)
from quality.gate.verdict import (
    _OUTLIER_NAMES,
    BAD_ROW_SHARE_RULE,
    DAILY_VOLUME_RULE,
    HISTORY_VOLUME_RULE,
    READ_PROBLEM_COLUMN,
    SCHEMA_RULE,
    TYPE_RULE,
    VOLUME_RULE,
    BatchFailure,
    GateVerdict,
    RowFailure,
)
from quality.outliers import find_outliers
from quality.suites import TableSuite


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
        for outcome in [*outcomes, *code_list_outcomes(suite, typed)]:
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
    verdict.row_failures.extend(balance_failures(typed, suite))
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
