"""Documentation inside the snapshot: the ``docs`` schema.

Every published snapshot carries its own data dictionary, so an economist (or ``maglumat
search``) reads the descriptions from the same file they query, of the same day:

- ``docs.tables``: one row per table and view (schema, name, kind, description, row count, and
  the sector and access its dbt model declares in ``meta``);
- ``docs.columns``: one row per column (schema, table, position, name, DuckDB type, description).

Descriptions come from the dbt project. Models carry theirs into the warehouse as comments
(``persist_docs``); seeds and sources (the raw tables) have theirs only in dbt's manifest, so
the manifest fills what the comments leave empty. Types always come from DuckDB's catalogue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

DOCS_SCHEMA = "docs"
# Schemas that are DuckDB's own, not the warehouse's.
_SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", DOCS_SCHEMA)


def _clean(text: str | None) -> str | None:
    """One line of text, or None: YAML folded blocks leave newlines and trailing spaces."""
    if text is None:
        return None
    text = " ".join(text.split())
    return text or None


@dataclass(frozen=True)
class ManifestDocs:
    """What dbt's manifest says of the warehouse's relations, by warehouse address."""

    tables: dict[tuple[str, str], str] = field(default_factory=dict)
    columns: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # (sector, access) of each model, from its ``meta`` (dbt_project.yml, per folder).
    meta: dict[tuple[str, str], tuple[str | None, str | None]] = field(default_factory=dict)


def manifest_descriptions(manifest_path: Path | None) -> ManifestDocs:
    """Table and column descriptions of dbt's models, seeds and sources, and each model's
    declared sector and access, by warehouse address."""
    docs = ManifestDocs()
    tables, columns = docs.tables, docs.columns
    if manifest_path is None or not manifest_path.exists():
        return docs
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    resources: list[dict[str, Any]] = [
        node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") in ("model", "seed", "snapshot")
    ]
    resources.extend(manifest.get("sources", {}).values())
    for resource in resources:
        schema = resource["schema"]
        name = resource.get("identifier") or resource.get("alias") or resource["name"]
        description = _clean(resource.get("description"))
        if description:
            tables[(schema, name)] = description
        meta = (resource.get("config") or {}).get("meta") or {}
        if meta.get("sector") or meta.get("access"):
            docs.meta[(schema, name)] = (meta.get("sector"), meta.get("access"))
        for column_name, column in (resource.get("columns") or {}).items():
            column_description = _clean(column.get("description"))
            if column_description:
                columns[(schema, name, column_name)] = column_description
    return docs


def write_docs(connection: duckdb.DuckDBPyConnection, manifest_path: Path | None) -> int:
    """(Re)write the ``docs`` schema in the database of ``connection``; returns its table count.

    Run on the snapshot's private copy before it is made read-only and renamed into place.
    """
    docs = manifest_descriptions(manifest_path)
    table_docs, column_docs = docs.tables, docs.columns
    excluded = list(_SYSTEM_SCHEMAS)
    relations = connection.execute(
        """
        select schema_name, table_name, 'table' as table_type, comment, estimated_size
        from duckdb_tables()
        where database_name = current_database() and not internal
          and not list_contains(?, schema_name)
        union all
        select schema_name, view_name, 'view', comment, null
        from duckdb_views()
        where database_name = current_database() and not internal
          and not list_contains(?, schema_name)
        order by 1, 2
        """,
        [excluded, excluded],
    ).fetchall()
    columns = connection.execute(
        """
        select schema_name, table_name, column_index, column_name, data_type, comment
        from duckdb_columns()
        where database_name = current_database() and not internal
          and not list_contains(?, schema_name)
        order by schema_name, table_name, column_index
        """,
        [excluded],
    ).fetchall()
    tables_frame = pl.DataFrame(
        [
            {
                "schema_name": schema,
                "table_name": name,
                "table_type": kind,
                "description": _clean(comment) or table_docs.get((schema, name)),
                "row_count": size,
                "sector": docs.meta.get((schema, name), (None, None))[0],
                "access": docs.meta.get((schema, name), (None, None))[1],
            }
            for schema, name, kind, comment, size in relations
        ],
        schema={
            "schema_name": pl.String,
            "table_name": pl.String,
            "table_type": pl.String,
            "description": pl.String,
            "row_count": pl.Int64,
            "sector": pl.String,
            "access": pl.String,
        },
    )
    columns_frame = pl.DataFrame(
        [
            {
                "schema_name": schema,
                "table_name": table,
                "column_index": index,
                "column_name": name,
                "data_type": data_type,
                "description": _clean(comment) or column_docs.get((schema, table, name)),
            }
            for schema, table, index, name, data_type, comment in columns
        ],
        schema={
            "schema_name": pl.String,
            "table_name": pl.String,
            "column_index": pl.Int64,
            "column_name": pl.String,
            "data_type": pl.String,
            "description": pl.String,
        },
    )
    connection.execute("create schema if not exists docs")
    connection.register("tables_frame", tables_frame)
    connection.register("columns_frame", columns_frame)
    try:
        connection.execute("create or replace table docs.tables as select * from tables_frame")
        connection.execute("create or replace table docs.columns as select * from columns_frame")
    finally:
        connection.unregister("tables_frame")
        connection.unregister("columns_frame")
    connection.execute(
        "comment on table docs.tables is 'Every table and view of this snapshot,"
        " with its description from the dbt project, its row count (views: null), and the"
        " sector and access its model declares (who may read it once served).'"
    )
    connection.execute(
        "comment on table docs.columns is 'Every column of this snapshot:"
        " position, DuckDB type and description from the dbt project.'"
    )
    return tables_frame.height


def has_docs(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether the snapshot has its ``docs`` schema (asking ``duckdb_tables()`` would load
    every table's metadata: a second on a cold snapshot)."""
    try:
        connection.execute("select 1 from docs.tables limit 0")
        connection.execute("select 1 from docs.columns limit 0")
    except duckdb.CatalogException:
        return False
    return True


_TABLES_FROM_DOCS = "select * from docs.tables"
# A snapshot published before the docs schema existed: DuckDB's own catalogue and comments.
_TABLES_FROM_CATALOGUE = """
    select schema_name, table_name, 'table' as table_type, comment as description,
           estimated_size as row_count, null::varchar as sector, null::varchar as access
    from duckdb_tables() where not internal
    union all
    select schema_name, view_name, 'view', comment, null, null, null
    from duckdb_views() where not internal
"""
_COLUMNS_FROM_DOCS = "select * from docs.columns"
_COLUMNS_FROM_CATALOGUE = """
    select schema_name, table_name, column_index, column_name, data_type,
           comment as description
    from duckdb_columns() where not internal
"""


def read_tables(connection: duckdb.DuckDBPyConnection, schema: str | None = None) -> pl.DataFrame:
    """``docs.tables`` of a snapshot; for a snapshot published before it existed, the same
    from DuckDB's catalogue (model descriptions only, from their comments)."""
    source = _TABLES_FROM_DOCS if has_docs(connection) else _TABLES_FROM_CATALOGUE
    return (
        connection.execute(source)
        .pl()
        .filter(
            (pl.col("schema_name") == schema) if schema else pl.lit(value=True),
            ~pl.col("schema_name").is_in(_SYSTEM_SCHEMAS),
        )
        .sort("schema_name", "table_name")
    )


def read_columns(
    connection: duckdb.DuckDBPyConnection, table: str | None = None, schema: str | None = None
) -> pl.DataFrame:
    """``docs.columns`` of a snapshot (or DuckDB's catalogue, as for ``read_tables``)."""
    source = _COLUMNS_FROM_DOCS if has_docs(connection) else _COLUMNS_FROM_CATALOGUE
    return (
        connection.execute(source)
        .pl()
        .filter(
            (pl.col("table_name") == table) if table else pl.lit(value=True),
            (pl.col("schema_name") == schema) if schema else pl.lit(value=True),
            ~pl.col("schema_name").is_in(_SYSTEM_SCHEMAS),
        )
        .sort("schema_name", "table_name", "column_index")
    )
