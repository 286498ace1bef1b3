"""DuckDB's column types as PostgreSQL's, and each column as CSV that PostgreSQL's COPY reads."""

from __future__ import annotations

import re

from warehouse.serving.model import (
    Column,
    ServingError,
)

_SCALAR_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(39,0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "UHUGEINT": "numeric(39,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIME": "time",
    "TIME WITH TIME ZONE": "timetz",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "BLOB": "bytea",
    "JSON": "jsonb",
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
_LIST = re.compile(r"^(.+)\[\d*\]$")


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL type that holds a DuckDB column's values without loss.

    Lists of scalars become arrays; structs, maps and lists of them become ``jsonb``; enums
    become ``text``.
    """
    text = duckdb_type.strip()
    if text in _SCALAR_TYPES:
        return _SCALAR_TYPES[text]
    if decimal := _DECIMAL.match(text):
        return f"numeric({decimal.group(1)},{decimal.group(2)})"
    if element := _LIST.match(text):
        inner = postgres_type(element.group(1))
        return "jsonb" if inner == "jsonb" or inner.endswith("[]") else f"{inner}[]"
    if text.startswith(("STRUCT", "MAP", "UNION")):
        return "jsonb"
    if text.startswith("ENUM"):
        return "text"
    raise ServingError(f"no PostgreSQL type for the DuckDB type {duckdb_type}")


# Read as they are: Arrow's CSV writer renders them as PostgreSQL reads them back.
_AS_IS = re.compile(
    r"^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|FLOAT|"
    r"DOUBLE|VARCHAR|DECIMAL\(\d+,\s*\d+\))$"
)
# A list of scalars as a PostgreSQL array literal: every element quoted, NULL bare.
_ARRAY_LITERAL = (
    "case when {c} is null then null else '{{' || array_to_string(list_transform({c}, "
    "e -> coalesce('\"' || replace(replace(e::varchar, '\\', '\\\\'), '\"', '\\\"') || '\"',"
    " 'NULL')), ',') || '}}' end"
)


def copy_expression(column: Column) -> str:
    """How a column is read from DuckDB so that PostgreSQL's CSV COPY parses it exactly:
    numbers, booleans and text as they are, other scalars as their text (dates and times
    with their offset, infinities, intervals), binary as hex, lists of scalars as array
    literals, and nested values as JSON."""
    quoted = f'"{column.name}"'
    if _AS_IS.match(column.duckdb_type):
        return quoted
    if column.duckdb_type == "BLOB":
        return f"'\\x' || hex({quoted})"
    if column.postgres_type.endswith("[]"):
        return _ARRAY_LITERAL.format(c=quoted)
    if column.postgres_type == "jsonb" and column.duckdb_type != "JSON":
        return f"to_json({quoted})::varchar"
    return f"{quoted}::varchar"
