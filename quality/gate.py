"""Run a source's expectation suite on one landed batch and give the verdict.

Two levels of failure:

* row level: a value fails a column rule (or does not convert to its contract type). The row is
  quarantined with the rule, the field and the value; the rest of the batch loads.
* batch level: the schema drifted, the batch is too small, or too many rows failed. The whole
  batch is held: nothing of it loads and what depends on it is blocked.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

import polars as pl

from quality.contract import cast_to_contract
from quality.outliers import find_outliers
from quality.suites import TableSuite

SCHEMA_RULE = "expect_table_columns_to_match_set"
VOLUME_RULE = "expect_table_row_count_to_be_between"
TYPE_RULE = "type_contract"
BAD_ROW_SHARE_RULE = "max_bad_row_share"
HISTORY_VOLUME_RULE = "volume_against_recent_batches"
OUTLIER_RULE = "outlier_modified_zscore"
SEASONAL_OUTLIER_RULE = "outlier_against_last_year"


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

    gx_suite = gx.ExpectationSuite(name=suite.name)
    for expectation in suite.expectations:
        needed = expectation.kwargs.get("column_list") or [expectation.kwargs.get("column")]
        if any(column and column not in present_columns for column in needed):
            continue  # a missing column is a schema failure already; its rules cannot run
        implementation = get_expectation_impl(expectation.name)
        gx_suite.add_expectation(implementation(**expectation.kwargs))
    return gx_suite


def _value(frame: pl.DataFrame, column: str, index: int) -> str | None:
    if column not in frame.columns:
        return None
    value = frame.get_column(column)[index]
    return None if value is None else str(value)


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


def validate_batch(
    batch_id: str,
    frame: pl.DataFrame,
    suite: TableSuite,
    history: list[int] | None = None,
    loaded: pl.DataFrame | None = None,
) -> tuple[GateVerdict, pl.DataFrame]:
    """Validate ``frame`` (a landed batch, as extracted) against ``suite``.

    ``history`` is the row counts of the table's earlier accepted batches, oldest first, for the
    volume rule; ``loaded`` the rows already in the warehouse, for the outlier rules. Returns the
    verdict and the batch converted to its contract types.
    """
    verdict = GateVerdict(
        batch_id=batch_id,
        suite=suite.name,
        checked_at=dt.datetime.now(dt.UTC).isoformat(),
        row_count=frame.height,
    )
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

    typed, type_failures = cast_to_contract(frame, suite.columns)
    verdict.row_failures.extend(
        RowFailure(f.row_number, TYPE_RULE, f.column, f.value) for f in type_failures
    )
    unconvertible = {(f.row_number, f.column) for f in type_failures}
    if typed.height:
        context = _gx_context()
        source = context.data_sources.add_or_update_pandas(f"landing_{suite.source}")
        asset_name = f"{suite.table}_{batch_id}"
        asset = source.add_dataframe_asset(asset_name)
        definition = asset.add_batch_definition_whole_dataframe("whole_batch")
        batch = definition.get_batch(batch_parameters={"dataframe": typed.to_pandas()})
        result = batch.validate(
            _gx_suite(suite, typed.columns), result_format={"result_format": "COMPLETE"}
        )
        source.delete_asset(asset_name)
        for outcome in result.results:
            config = outcome.expectation_config
            rule = config.type
            column = config.kwargs.get("column") or ",".join(config.kwargs.get("column_list", []))
            detail = outcome.result or {}
            indices = detail.get("unexpected_index_list") or []
            verdict.results.append(
                {
                    "rule": rule,
                    "field": column,
                    "success": bool(outcome.success),
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
    if loaded is not None and not verdict.is_held:
        for rule in suite.outliers:
            if rule.column not in typed.columns:
                continue
            name = SEASONAL_OUTLIER_RULE if rule.period else OUTLIER_RULE
            measure = (
                "ratio to the same period a year before" if rule.period else "modified z-score"
            )
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
