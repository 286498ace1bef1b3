"""The row path of the ``sql`` extractor: a query read through the DB-API driver in
bounded batches of rows, turned into the polars frame that defines the landed types."""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from typing import Any

import polars as pl

from pipelines.extract.dbapi import connect

FETCH_ROWS = 50_000  # rows per DB-API fetch on the row path: bounded Python lists


def _python_value(value: Any) -> Any:
    # Exact decimals travel as floats: every measure in the landing zone is float64.
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _reference_frame(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> pl.DataFrame:
    """DB-API rows as a frame, value by value: the reference semantics of the landed types."""
    data = {
        column: [_python_value(row[index]) for row in rows] for index, column in enumerate(columns)
    }
    return pl.DataFrame(data, strict=False, infer_schema_length=None)


def _rows_frame(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> pl.DataFrame:
    """DB-API rows as a frame, built by polars from the row tuples (as the reference does)."""
    if not rows:
        return _reference_frame(columns, rows)
    try:
        frame = pl.DataFrame(
            rows, schema=list(columns), orient="row", strict=False, infer_schema_length=None
        )
    except (pl.exceptions.PolarsError, OverflowError, TypeError, ValueError):
        return _reference_frame(columns, rows)  # values polars cannot take column-wise
    # Exact decimals as the nearest float64, from their exact text (what float(Decimal) gives).
    decimals = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Decimal)]
    return frame.with_columns(pl.col(decimals).cast(pl.String).cast(pl.Float64))


def read_rows(dsn: str, query: str, parameters: list[Any]) -> pl.DataFrame:
    """The rows of ``query`` read through the DB-API driver, as a frame."""
    connection, _ = connect(dsn, writable=False)
    try:
        cursor = connection.cursor()
        cursor.execute(query, parameters)
        columns = [description[0].lower() for description in cursor.description]
        rows: list[Sequence[Any]] = []
        while batch := cursor.fetchmany(FETCH_ROWS):
            rows.extend(batch)
        frame = _rows_frame(columns, rows)
        cursor.close()
    finally:
        connection.close()
    return frame
