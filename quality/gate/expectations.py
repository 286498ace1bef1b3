"""Great Expectations run on a batch: the suite's expectations as GX's, and their outcomes."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

from quality.suites import TableSuite


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
