"""Great Expectations run on a batch: the suite's expectations as GX's, and their outcomes."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

from quality.suites import Expectation, TableSuite


@cache
def _gx_context() -> Any:
    # GX is imported only where a batch is validated: the import alone costs some 3 s.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


# A value set at least this long (a register's codes) is looked up in polars, not in GX: GX
# serialises an expectation's whole configuration again for every metric it resolves, so a
# register of 9,485 enterprise codes cost 68 of the 159 s the gate took over the 10 million
# fuel-energy rows of the benchmark at SF 10 (docs/benchmark.md).
CODE_LIST_MIN_VALUES = 500
IN_SET_RULE = "expect_column_values_to_be_in_set"


def is_code_list(expectation: Expectation, suite: TableSuite) -> bool:
    """An in-set rule over a long list of codes on a text column, with no other option: the
    rows whose value is not null and not in the list fail, as GX judges them."""
    kwargs = expectation.kwargs
    return (
        expectation.name == IN_SET_RULE
        and set(kwargs) == {"column", "value_set"}
        and suite.columns.get(str(kwargs["column"])) == "string"
        and len(kwargs["value_set"]) >= CODE_LIST_MIN_VALUES
    )


def code_list_outcomes(suite: TableSuite, typed: pl.DataFrame) -> list[ExpectationOutcome]:
    """The suite's code-list rules (:func:`is_code_list`) on ``typed``, as GX reports them:
    0-based indices and the values of the rows that fail."""
    outcomes = []
    for expectation in suite.expectations:
        column = str(expectation.kwargs.get("column"))
        if not is_code_list(expectation, suite) or column not in typed.columns:
            continue
        values = typed.get_column(column)
        # A text value never equals a number of the list, as pandas' isin (GX's) compares them.
        codes = [code for code in expectation.kwargs["value_set"] if isinstance(code, str)]
        failing = (values.is_not_null() & ~values.is_in(codes)).arg_true()
        detail = {
            "unexpected_count": failing.len(),
            "unexpected_list": values.gather(failing).to_list(),
            "unexpected_index_list": failing.to_list(),
        }
        outcomes.append(ExpectationOutcome(IN_SET_RULE, column, failing.len() == 0, detail))
    return outcomes


def _gx_suite(suite: TableSuite, present_columns: list[str]) -> Any:
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    _gx_context()  # a suite can only be made inside a context
    gx_suite = gx.ExpectationSuite(name=suite.name)
    for expectation in suite.expectations:
        if is_code_list(expectation, suite):
            continue  # looked up in polars (code_list_outcomes)
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
