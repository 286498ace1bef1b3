"""The column-wise path of the ``sql`` extractor: SQLite and PostgreSQL read as Arrow through
their ADBC drivers, cast to the types the row path gives. Values with no exact column-wise
reading raise ``NeedsRowPathError``, and the caller reads them row by row instead."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from maglumat.catalogue import IDENTIFIER, SourceTable
from pipelines.extract.dbapi import Dialect, SourceUnreachableError, connect, redact


class NeedsRowPathError(Exception):
    """The source's values have no exact column-wise reading; read them row by row."""


def _null_columns_as_null(frame: pl.DataFrame) -> pl.DataFrame:
    # The row path types an all-null column (or any column of an empty result) as Null.
    counts = frame.null_count().row(0) if frame.width else ()
    empty = [name for name, nulls in zip(frame.columns, counts, strict=True) if nulls == len(frame)]
    return frame.with_columns(pl.lit(None, dtype=pl.Null).alias(name) for name in empty)


def _as_row_path_types(frame: pl.DataFrame, time_zone: str | None) -> pl.DataFrame:
    """Arrow's column types cast to those the DB-API rows give (or ``NeedsRowPathError``)."""
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
            raise NeedsRowPathError(f"column {name} is {dtype}")
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
                raise NeedsRowPathError(f"column {field.name} is {field.type}")
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


def read_sqlite(
    dsn: str, table: SourceTable, query: str, unordered: str, parameters: list[Any]
) -> pl.DataFrame:
    import adbc_driver_sqlite.dbapi

    check, _ = connect(dsn, writable=False)  # a missing file is unreachable, never created
    try:
        mixed = _sqlite_mixed_columns(check, table, unordered, parameters)
    finally:
        check.close()
    if mixed:
        raise NeedsRowPathError(f"columns {mixed} mix SQLite storage classes")
    try:
        with (
            adbc_driver_sqlite.dbapi.connect(_sqlite_uri(dsn)) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(query, parameters)
            table_read = cursor.fetch_arrow_table()
    except Exception as error:
        # ADBC types a column from its first rows; a value of another class fails the read.
        raise NeedsRowPathError(str(error)) from error
    return _as_row_path_types(_from_arrow(table_read), None)


def read_postgresql(
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
                    raise NeedsRowPathError(f"cursor column of type {type_name!r}")
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
            raise NeedsRowPathError(str(error)) from error
    try:
        time_zone = str(ZoneInfo(session_zone).key)
    except (ZoneInfoNotFoundError, ValueError):
        time_zone = "UTC"  # a fixed offset: the DB-API rows carry UTC then
    return _as_row_path_types(_from_arrow(arrow), time_zone)
