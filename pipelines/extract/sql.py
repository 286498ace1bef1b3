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
import decimal
import logging
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from maglumat.catalogue import IDENTIFIER, SourceSystem, SourceTable
from pipelines.extract import Extract, ExtractRequest, kind_options
from pipelines.extract.dbapi import Dialect, SourceUnreachableError, connect, dialect_of, redact

log = logging.getLogger(__name__)

FETCH_ROWS = 50_000  # rows per DB-API fetch on the row path: bounded Python lists


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


def _read_rows(dsn: str, query: str, parameters: list[Any]) -> pl.DataFrame:
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


# --- the column-wise path (ADBC) --------------------------------------------------------------


class _NeedsRowPathError(Exception):
    """The source's values have no exact column-wise reading; read them row by row."""


def _null_columns_as_null(frame: pl.DataFrame) -> pl.DataFrame:
    # The row path types an all-null column (or any column of an empty result) as Null.
    counts = frame.null_count().row(0) if frame.width else ()
    empty = [name for name, nulls in zip(frame.columns, counts, strict=True) if nulls == len(frame)]
    return frame.with_columns(pl.lit(None, dtype=pl.Null).alias(name) for name in empty)


def _as_row_path_types(frame: pl.DataFrame, time_zone: str | None) -> pl.DataFrame:
    """Arrow's column types cast to those the DB-API rows give (or ``_NeedsRowPathError``)."""
    casts: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype in (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16, pl.UInt32):
            casts.append(column.cast(pl.Int64))
        elif dtype == pl.Float32:
            # A float4 arrives as the shortest text that reads back as it (1.1, not
            # 1.100000023841858): widen through that text, as the DB-API driver does.
            casts.append(column.cast(pl.String).cast(pl.Float64))
        elif isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            casts.append(column.dt.convert_time_zone(time_zone or "UTC"))
        elif not (
            dtype in (pl.Int64, pl.Float64, pl.String, pl.Boolean, pl.Date, pl.Time, pl.Binary)
            or dtype == pl.Null
            or isinstance(dtype, pl.Datetime)
        ):
            raise _NeedsRowPathError(f"column {name} is {dtype}")
    return _null_columns_as_null(frame.with_columns(casts))


def _from_arrow(table: Any) -> pl.DataFrame:
    """An Arrow table from ADBC as polars; PostgreSQL numerics (opaque text) as Float64."""
    import pyarrow as pa

    numeric_columns: list[str] = []
    columns = []
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if isinstance(field.type, pa.BaseExtensionType):
            metadata = field.metadata or {}
            if metadata.get(b"POSTGRESQL:type") != b"numeric":
                raise _NeedsRowPathError(f"column {field.name} is {field.type}")
            # Decimal text parsed to the nearest float64, as float(Decimal) gives.
            column = column.cast(field.type.storage_type)
            numeric_columns.append(field.name.lower())
        columns.append(column)
    names = [field.name.lower() for field in table.schema]
    frame = pl.from_arrow(pa.Table.from_arrays(columns, names=names))
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.col(numeric_columns).cast(pl.Float64))


def _sqlite_uri(dsn: str) -> str:
    parts = urlsplit(dsn)
    path = unquote(parts.path)
    if parts.netloc:  # sqlite://relative/path
        path = parts.netloc + path
    if path.startswith("//"):  # sqlite:////abs/path leaves //abs/path
        path = "/" + path.lstrip("/")
    return f"file:{quote(path)}?mode=ro"


def _sqlite_affinity(declared: str) -> str:
    """The column affinity SQLite gives a declared type (datatype3.html, section 3.1)."""
    declared = declared.upper()
    if "INT" in declared:
        return "INTEGER"
    if any(word in declared for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in declared or not declared:
        return "BLOB"
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _sqlite_mixed_columns(
    connection: Any, table: SourceTable, unordered: str, parameters: list[Any]
) -> list[str]:
    """Columns holding more than one SQLite storage class (besides NULL) in the rows read.

    SQLite types values, not columns; the DB-API rows type a column from all its values (text
    when texts and numbers mix), ADBC from its first values. A TEXT column stores numbers as
    text and an INTEGER PRIMARY KEY only integers, so only the other columns are counted.
    """
    declared = connection.execute(
        "select name, type, pk from pragma_table_info(?)", [table.name]
    ).fetchall()
    keys = [name for name, _, pk in declared if pk]
    suspects = [
        name
        for name, type_name, _ in declared
        if _sqlite_affinity(type_name) != "TEXT"
        and not (keys == [name] and type_name.upper() == "INTEGER")  # the rowid itself
    ]
    if not suspects or any('"' in name for name in suspects):
        return [name for name in suspects if '"' in name]  # a quote in a name: read row-wise
    counts = ", ".join(f"count(distinct nullif(typeof(\"{name}\"), 'null'))" for name in suspects)
    row = connection.execute(f"select {counts} from ({unordered})", parameters).fetchone()  # noqa: S608 - checked identifiers, bound values
    return [name for name, count in zip(suspects, row, strict=True) if count > 1]


def _read_sqlite(
    dsn: str, table: SourceTable, query: str, unordered: str, parameters: list[Any]
) -> pl.DataFrame:
    import adbc_driver_sqlite.dbapi

    check, _ = connect(dsn, writable=False)  # a missing file is unreachable, never created
    try:
        mixed = _sqlite_mixed_columns(check, table, unordered, parameters)
    finally:
        check.close()
    if mixed:
        raise _NeedsRowPathError(f"columns {mixed} mix SQLite storage classes")
    try:
        with (
            adbc_driver_sqlite.dbapi.connect(_sqlite_uri(dsn)) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(query, parameters)
            table_read = cursor.fetch_arrow_table()
    except Exception as error:
        # ADBC types a column from its first rows; a value of another class fails the read.
        raise _NeedsRowPathError(str(error)) from error
    return _as_row_path_types(_from_arrow(table_read), None)


def _read_postgresql(
    dsn: str, table: SourceTable, high_water_mark: str | None, dialect: Dialect
) -> pl.DataFrame:
    import adbc_driver_postgresql.dbapi

    uri = dsn.replace("postgresql+psycopg://", "postgresql://")
    check, _ = connect(dsn, writable=False)  # the reachability errors of the DB-API driver
    check.close()
    try:
        connection = adbc_driver_postgresql.dbapi.connect(uri)
    except Exception as error:
        raise SourceUnreachableError(f"{redact(dsn)}: {error}") from error
    with connection, connection.cursor() as cursor:
        source = dialect.quote_identifier(table.name)
        query = f"select * from {source}"  # noqa: S608 - identifiers checked by the caller
        parameters: list[Any] = []
        if table.mode == "incremental" and table.cursor:
            cursor_column = dialect.quote_identifier(table.cursor)
            if high_water_mark is not None:
                # ADBC binds text as text: name the column's own type so the server converts
                # the cursor value as psycopg's untyped parameter did.
                cursor.execute(f"select {cursor_column} from {source} limit 0")  # noqa: S608
                field = cursor.fetch_arrow_table().schema.field(0)
                type_name = (field.metadata or {}).get(b"POSTGRESQL:type", b"").decode()
                if not IDENTIFIER.match(type_name):
                    raise _NeedsRowPathError(f"cursor column of type {type_name!r}")
                query += f" where {cursor_column} > cast($1 as {type_name})"
                parameters.append(high_water_mark)
            query += f" order by {cursor_column}"
        cursor.execute("select current_setting('TimeZone')")
        (session_zone,) = cursor.fetchone()
        try:
            cursor.execute(query, parameters or None)
            arrow = cursor.fetch_arrow_table()
        except Exception as error:
            # A type ADBC cannot read, or a failing query: the DB-API reading decides (and
            # raises the error it always raised).
            raise _NeedsRowPathError(str(error)) from error
    try:
        time_zone = str(ZoneInfo(session_zone).key)
    except (ZoneInfoNotFoundError, ValueError):
        time_zone = "UTC"  # a fixed offset: the DB-API rows carry UTC then
    return _as_row_path_types(_from_arrow(arrow), time_zone)


# --- the extractor ----------------------------------------------------------------------------


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
            return _read_sqlite(dsn, table, query, unordered, parameters)
        if dialect.name == "postgresql":
            return _read_postgresql(dsn, table, high_water_mark, dialect)
    except _NeedsRowPathError:
        pass
    return _read_rows(dsn, query, parameters)


def extract_table(dsn: str, table: SourceTable, high_water_mark: str | None) -> Extract:
    """Read the rows of ``table`` whose cursor is past ``high_water_mark`` (or all, for full)."""
    if not IDENTIFIER.match(table.name) or (table.cursor and not IDENTIFIER.match(table.cursor)):
        raise ValueError(f"refusing to query unchecked identifiers of {table.name!r}")
    frame = read_frame(dsn, table, high_water_mark)
    cursor_to = None
    if table.mode == "incremental" and table.cursor and frame.height:
        cursor_to = cursor_text(frame.get_column(table.cursor).max())
    return Extract(frame=frame, cursor_from=high_water_mark, cursor_to=cursor_to)


# How far behind the high-water mark an incremental table with a time cursor is read again, by
# default: a row committed after a later one (a long transaction, a replica catching up) carries
# an earlier cursor value and would otherwise be skipped for good.
DEFAULT_LATE_COMMIT_SECONDS = 3600
SQL_OPTION_NAMES = frozenset({"late_commit_seconds"})


def check_options(system: SourceSystem, table: SourceTable) -> None:
    """Raise when a table's options (over its system's) are not ones this reads."""
    _late_commit_seconds(system, table)


def _late_commit_seconds(system: SourceSystem, table: SourceTable) -> float:
    """How far back past the mark to read again (rows committed late), checked."""
    options = kind_options(system, table, SQL_OPTION_NAMES)
    seconds = float(options.get("late_commit_seconds", DEFAULT_LATE_COMMIT_SECONDS))  # type: ignore[arg-type]
    if seconds < 0:
        raise ValueError("sql option late_commit_seconds must not be negative")
    return seconds


def _earlier_cursor(mark: str, seconds: float) -> str | None:
    """``mark`` moved back by ``seconds``, written as the mark is; None if it is not a time."""
    try:
        moment = dt.datetime.fromisoformat(mark)
    except ValueError:
        return None
    separator = mark[10] if len(mark) > 10 and mark[10] in "T " else "T"
    return (moment - dt.timedelta(seconds=seconds)).isoformat(sep=separator)


def _as_time(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _landed_since(request: ExtractRequest, since: str, columns: list[str]) -> pl.DataFrame | None:
    """The business keys and cursor values landed by the table's batches that reach past
    ``since`` (as text), to tell a row read again from one committed late."""
    from pipelines.landing import list_batches, rejections

    landing, system, table = request.paths.landing, request.system.name, request.table.name
    # A batch the steward rejected for its rows to be read again does not count as landed.
    again = {b for b, r in rejections(landing, system, table).items() if r.extract_again}
    frames = []
    for manifest in list_batches(landing, system, table):
        if manifest.cursor_to is None or manifest.batch_id in again:
            continue
        try:
            reaches = _as_time(manifest.cursor_to) > _as_time(since)
        except ValueError:
            reaches = True
        if reaches:
            landed = pl.read_parquet(manifest.parquet_path(request.paths.landing), columns=columns)
            frames.append(landed.select(pl.col(columns).cast(pl.String)))
    return pl.concat(frames) if frames else None


def extract(request: ExtractRequest) -> Iterator[Extract]:
    """The rows past the high-water mark, and the rows committed late: a time cursor is read
    again from ``late_commit_seconds`` (default 3600) before the mark, and the rows already
    landed (same business key and cursor value) are left out."""
    table, mark = request.table, request.high_water_mark
    seconds = _late_commit_seconds(request.system, request.table)
    read_from = (
        _earlier_cursor(mark, seconds)
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
    landed = _landed_since(request, read_from, columns) if frame.height else None
    if landed is not None and all(column in frame.columns for column in columns):
        keys = frame.select(pl.col(columns).cast(pl.String)).with_row_index("_position")
        fresh = keys.join(landed.unique(), on=columns, how="anti", nulls_equal=True)
        frame = frame[fresh.get_column("_position").sort().to_list()]
    cursor_to = mark
    if frame.height:
        latest = cursor_text(frame.get_column(table.cursor).max())
        if latest is not None and _as_time(latest) > _as_time(mark):
            cursor_to = latest
        late = sum(
            1
            for value in frame.get_column(table.cursor).to_list()
            if value is not None and _as_time(str(cursor_text(value))) <= _as_time(mark)
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
