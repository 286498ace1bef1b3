"""The generic SQL extractor (kind ``sql``): reads a table incrementally by its cursor column
into polars, from SQLite, PostgreSQL or MySQL/MariaDB."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl

from pipelines.catalogue import IDENTIFIER, SourceTable
from pipelines.extract import Extract, ExtractRequest
from pipelines.extract.dbapi import connect


def cursor_text(value: Any) -> str | None:
    """A cursor value as text the source compares correctly with its own column."""
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _python_value(value: Any) -> Any:
    # Exact decimals travel as floats: every measure in the landing zone is float64.
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _frame(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> pl.DataFrame:
    data = {
        column: [_python_value(row[index]) for row in rows] for index, column in enumerate(columns)
    }
    return pl.DataFrame(data, strict=False, infer_schema_length=None)


def extract_table(dsn: str, table: SourceTable, high_water_mark: str | None) -> Extract:
    """Read the rows of ``table`` whose cursor is past ``high_water_mark`` (or all, for full)."""
    if not IDENTIFIER.match(table.name) or (table.cursor and not IDENTIFIER.match(table.cursor)):
        raise ValueError(f"refusing to query unchecked identifiers of {table.name!r}")
    connection, dialect = connect(dsn, writable=False)
    try:
        source = dialect.quote_identifier(table.name)
        parameters: list[Any] = []
        query = f"select * from {source}"  # noqa: S608 - identifiers checked above
        if table.mode == "incremental" and table.cursor:
            cursor_column = dialect.quote_identifier(table.cursor)
            if high_water_mark is not None:
                query += f" where {cursor_column} > {dialect.placeholder}"
                parameters.append(high_water_mark)
            query += f" order by {cursor_column}"
        cursor = connection.cursor()
        cursor.execute(query, parameters)
        columns = [description[0].lower() for description in cursor.description]
        rows = cursor.fetchall()
        cursor.close()
    finally:
        connection.close()
    frame = _frame(columns, rows)
    cursor_to = None
    if table.mode == "incremental" and table.cursor and frame.height:
        cursor_to = cursor_text(frame.get_column(table.cursor).max())
    return Extract(frame=frame, cursor_from=high_water_mark, cursor_to=cursor_to)


def extract(request: ExtractRequest) -> Iterator[Extract]:
    yield extract_table(request.connection, request.table, request.high_water_mark)
