"""The generic SQL extractor (kind ``sql``): reads a table incrementally by its cursor column
into polars, from SQLite, PostgreSQL or MySQL/MariaDB.

A time cursor is read again from ``late_commit_seconds`` (a table or system option, default
3600) before the high-water mark, and the rows already landed are left out: a row committed
after a later one, with an earlier cursor value, is landed on the next run, not skipped.

SQLite and PostgreSQL are read column-wise through their ADBC drivers (Arrow batches, no Python
object per value); MySQL/MariaDB in batches of rows that polars turns into columns. Either way
the landed frame is the one the DB-API rows always gave: integers Int64, floating point and
exact decimals Float64, text, dates and times as the driver returns them, an all-null column
of type Null. Where a source's values do not fit one Arrow type per column (SQLite columns
that mix storage classes, PostgreSQL json or uuid columns, ...) the rows are read through the
DB-API driver as before, so the types never depend on which path read them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import polars as pl

from maglumat.catalogue import IDENTIFIER, SourceSystem, SourceTable
from pipelines.extract import Extract, ExtractRequest
from pipelines.extract.dbapi import Dialect, dialect_of
from pipelines.extract.sql_columnar import NeedsRowPathError, read_postgresql, read_sqlite
from pipelines.extract.sql_late_commits import (
    as_time,
    earlier_cursor,
    landed_since,
    late_commit_seconds,
)
from pipelines.extract.sql_rows import read_rows

log = logging.getLogger(__name__)


def cursor_text(value: Any) -> str | None:
    """A cursor value as text the source compares correctly with its own column."""
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _query(
    dialect: Dialect, table: SourceTable, high_water_mark: str | None
) -> tuple[str, str, list]:
    """The query (ordered by the cursor), the same rows unordered, and its parameters."""
    source = dialect.quote_identifier(table.name)
    parameters: list[Any] = []
    query = f"select * from {source}"  # noqa: S608 - identifiers checked by the caller
    order = ""
    if table.mode == "incremental" and table.cursor:
        cursor_column = dialect.quote_identifier(table.cursor)
        if high_water_mark is not None:
            query += f" where {cursor_column} > {dialect.placeholder}"
            parameters.append(high_water_mark)
        order = f" order by {cursor_column}"
    return query + order, query, parameters


def read_frame(dsn: str, table: SourceTable, high_water_mark: str | None) -> pl.DataFrame:
    """The rows of ``table`` past ``high_water_mark`` (all of them for a full table)."""
    dialect = dialect_of(dsn)
    query, unordered, parameters = _query(dialect, table, high_water_mark)
    try:
        if dialect.name == "sqlite":
            return read_sqlite(dsn, table, query, unordered, parameters)
        if dialect.name == "postgresql":
            return read_postgresql(dsn, table, high_water_mark, dialect)
    except NeedsRowPathError:
        pass
    return read_rows(dsn, query, parameters)


def extract_table(dsn: str, table: SourceTable, high_water_mark: str | None) -> Extract:
    """Read the rows of ``table`` whose cursor is past ``high_water_mark`` (or all, for full)."""
    if not IDENTIFIER.match(table.name) or (table.cursor and not IDENTIFIER.match(table.cursor)):
        raise ValueError(f"refusing to query unchecked identifiers of {table.name!r}")
    frame = read_frame(dsn, table, high_water_mark)
    cursor_to = None
    if table.mode == "incremental" and table.cursor and frame.height:
        cursor_to = cursor_text(frame.get_column(table.cursor).max())
    return Extract(frame=frame, cursor_from=high_water_mark, cursor_to=cursor_to)


def check_options(system: SourceSystem, table: SourceTable) -> None:
    """Raise when a table's options (over its system's) are not ones this reads."""
    late_commit_seconds(system, table)


def extract(request: ExtractRequest) -> Iterator[Extract]:
    """The rows past the high-water mark, and the rows committed late: a time cursor is read
    again from ``late_commit_seconds`` (default 3600) before the mark, and the rows already
    landed (same business key and cursor value) are left out."""
    table, mark = request.table, request.high_water_mark
    seconds = late_commit_seconds(request.system, request.table)
    read_from = (
        earlier_cursor(mark, seconds)
        if table.mode == "incremental" and table.cursor and mark and seconds > 0
        else None
    )
    if read_from is None or mark is None or table.cursor is None:
        yield extract_table(request.connection, table, mark)
        return
    extracted = extract_table(request.connection, table, read_from)
    frame = extracted.frame
    assert frame is not None  # a SQL extract is read into memory
    columns = list(dict.fromkeys([*table.business_key, table.cursor]))
    landed = landed_since(request, read_from, columns) if frame.height else None
    if landed is not None and all(column in frame.columns for column in columns):
        keys = frame.select(pl.col(columns).cast(pl.String)).with_row_index("_position")
        fresh = keys.join(landed.unique(), on=columns, how="anti", nulls_equal=True)
        frame = frame[fresh.get_column("_position").sort().to_list()]
    cursor_to = mark
    if frame.height:
        latest = cursor_text(frame.get_column(table.cursor).max())
        if latest is not None and as_time(latest) > as_time(mark):
            cursor_to = latest
        late = sum(
            1
            for value in frame.get_column(table.cursor).to_list()
            if value is not None and as_time(str(cursor_text(value))) <= as_time(mark)
        )
        if late:
            log.warning(
                "%s.%s: %d rows committed late (cursor at or before the mark %s) are landed",
                request.system.name,
                table.name,
                late,
                mark,
            )
    yield Extract(frame=frame, cursor_from=mark, cursor_to=cursor_to)
