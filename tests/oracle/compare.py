"""Comparing an expected frame with the published rows of ``indicators.fct_indicator_values``.

Rows are joined on the key (indicator, period type, period start, region level, region,
enterprise, breakdown). Numerators and denominators are sums and counts: they must agree to
1e-6 (relative 1e-12 for large floating amounts). Values are published rounded to 6 decimals:
the expected value, rounded the same way, must agree to within that rounding. Rows present on
one side only are differences too. Boolean columns (``is_partial_period``, ``is_restated``) are
compared the same way with ``check_flag``: exactly, row by row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from tests.oracle.engine import EXPECTED_SCHEMA, KEYS

SHOWN = 20
FLAGS = ("is_partial_period", "is_restated")
# Region totals and enterprise rows: the two marts share one shape.
PUBLISHED = (
    "(select * from indicators.fct_indicator_values"
    " union all select * from indicators.fct_enterprise_indicator_values)"
)


def published(
    snapshot: Path, indicator_id: str, breakdowns: Sequence[str] | None = None
) -> pl.DataFrame:
    """The published rows of one indicator (optionally only some breakdown values)."""
    connection = duckdb.connect(str(snapshot), read_only=True)
    try:
        frame = connection.execute(
            "select indicator_id, period_type, period_start, region_level, region_id,"
            f" enterprise_id, breakdown, numerator, denominator, value from {PUBLISHED}"
            " where indicator_id = ?",
            [indicator_id],
        ).pl()
    finally:
        connection.close()
    frame = frame.select([pl.col(name).cast(dtype) for name, dtype in EXPECTED_SCHEMA.items()])
    if breakdowns is not None:
        frame = frame.filter(pl.col("breakdown").is_in(list(breakdowns)))
    return frame


def _same_amount(published_value: float | None, expected: float | None) -> bool:
    if published_value is None or expected is None:
        return published_value is None and expected is None
    if math.isnan(expected):
        return published_value is None or math.isnan(published_value)
    return abs(published_value - expected) <= max(1e-6, 1e-12 * abs(expected))


def _same_value(published_value: float | None, expected: float | None) -> bool:
    if published_value is None or expected is None:
        return published_value is None and expected is None
    return abs(published_value - round(expected, 6)) <= 1.5e-6


def _key_text(row: dict[str, object]) -> str:
    parts = [
        f"{row['indicator_id']} {row['period_type']} {row['period_start']}",
        f"{row['region_level']} {row['region_id']}",
    ]
    if row["enterprise_id"] is not None:
        parts.append(f"enterprise {row['enterprise_id']}")
    if row["breakdown"] is not None:
        parts.append(f"breakdown {row['breakdown']}")
    return ", ".join(parts)


def _side_by_side(
    expected: pl.DataFrame, actual: pl.DataFrame
) -> tuple[list[str], list[dict[str, Any]]]:
    """Duplicated expected keys (as lines), and the expected and published rows joined by key
    (``_published`` columns), in period and region order."""
    duplicated = expected.filter(pl.struct(KEYS).is_duplicated())
    lines = [
        f"expected frame has a duplicated key: {_key_text(r)}" for r in duplicated.rows(named=True)
    ]
    joined = expected.join(actual, on=KEYS, how="full", suffix="_published", nulls_equal=True)
    rows = joined.sort(
        pl.coalesce("period_type", "period_type_published"),
        pl.coalesce("period_start", "period_start_published"),
        pl.coalesce("region_id", "region_id_published"),
        nulls_last=True,
    ).rows(named=True)
    return lines, rows


def differences(expected: pl.DataFrame, actual: pl.DataFrame) -> list[str]:
    """Every difference between the expected and the published rows, one line each."""
    lines, rows = _side_by_side(expected, actual)
    for row in rows:
        if row["indicator_id"] is None:
            key = {name: row[f"{name}_published"] for name in KEYS}
            lines.append(
                f"{_key_text(key)}: published but not expected (published numerator"
                f" {row['numerator_published']}, denominator {row['denominator_published']},"
                f" value {row['value_published']})"
            )
            continue
        if row["indicator_id_published"] is None:
            lines.append(
                f"{_key_text(row)}: expected but not published (expected numerator"
                f" {row['numerator']}, denominator {row['denominator']}, value {row['value']})"
            )
            continue
        wrong = []
        for column in ("numerator", "denominator"):
            if not _same_amount(row[f"{column}_published"], row[column]):
                wrong.append(
                    f"{column} published {row[f'{column}_published']} expected {row[column]}"
                )
        if not _same_value(row["value_published"], row["value"]):
            expected_value = None if row["value"] is None else round(row["value"], 6)
            wrong.append(f"value published {row['value_published']} expected {expected_value}")
        if wrong:
            lines.append(f"{_key_text(row)}: " + "; ".join(wrong))
    return lines


def report(indicator_id: str, lines: list[str]) -> str:
    shown = "\n  ".join(lines[:SHOWN])
    more = f"\n  ... and {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""
    return f"{indicator_id}: {len(lines)} differing rows\n  {shown}{more}"


def check(snapshot: Path, expected: pl.DataFrame, breakdowns: Sequence[str] | None = None) -> str:
    """'' when the published rows of the expected frame's indicator are exactly the expected
    ones; otherwise a report of every difference."""
    indicator_id = expected["indicator_id"][0]
    lines = differences(expected, published(snapshot, indicator_id, breakdowns))
    return report(indicator_id, lines) if lines else ""


def published_flag(
    snapshot: Path, indicator_id: str, column: str, breakdowns: Sequence[str] | None = None
) -> pl.DataFrame:
    """The key and one boolean column of the published rows of one indicator."""
    if column not in FLAGS:
        raise ValueError(column)
    connection = duckdb.connect(str(snapshot), read_only=True)
    try:
        frame = connection.execute(
            f"select {', '.join(KEYS)}, {column}"  # the column is one of FLAGS
            f" from {PUBLISHED} where indicator_id = ?",
            [indicator_id],
        ).pl()
    finally:
        connection.close()
    frame = frame.select(
        *[pl.col(name).cast(EXPECTED_SCHEMA[name]) for name in KEYS],
        pl.col(column).cast(pl.Boolean),
    )
    if breakdowns is not None:
        frame = frame.filter(pl.col("breakdown").is_in(list(breakdowns)))
    return frame


def flag_differences(expected: pl.DataFrame, actual: pl.DataFrame, column: str) -> list[str]:
    """Every row whose boolean ``column`` differs (or that is on one side only), one line each."""
    lines, rows = _side_by_side(expected, actual)
    for row in rows:
        if row["indicator_id"] is None:
            key = {name: row[f"{name}_published"] for name in KEYS}
            lines.append(
                f"{_key_text(key)}: published but not expected"
                f" ({column} published {row[f'{column}_published']})"
            )
        elif row["indicator_id_published"] is None:
            lines.append(
                f"{_key_text(row)}: expected but not published ({column} expected {row[column]})"
            )
        elif row[f"{column}_published"] != row[column]:
            lines.append(
                f"{_key_text(row)}: {column} published {row[f'{column}_published']}"
                f" expected {row[column]}"
            )
    return lines


def check_flag(
    snapshot: Path, expected: pl.DataFrame, column: str, breakdowns: Sequence[str] | None = None
) -> str:
    """'' when the published boolean ``column`` of the expected frame's indicator is the expected
    one on every row; otherwise a report of every difference."""
    indicator_id = expected["indicator_id"][0]
    lines = flag_differences(
        expected, published_flag(snapshot, indicator_id, column, breakdowns), column
    )
    return report(f"{indicator_id} {column}", lines) if lines else ""
