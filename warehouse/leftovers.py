"""Relations dbt no longer builds: a model that was moved, renamed or removed leaves its last
table or view behind in the warehouse, where the snapshot would carry it to every reader with
yesterday's numbers. After each build they are dropped from the schemas dbt writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

BUILT_RESOURCES = ("model", "seed", "snapshot")


def _built_by_dbt(manifest: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {
        (node["schema"], node.get("alias") or node["name"])
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") in BUILT_RESOURCES
    }


def drop_leftover_relations(
    connection: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]
) -> list[str]:
    """Drop each table and view of a schema dbt builds into that no node of ``manifest`` builds;
    returns their addresses (``schema.name``). Other schemas (raw, audit, docs) are not dbt's
    and are never touched."""
    built = _built_by_dbt(manifest)
    schemas = sorted({schema for schema, _ in built})
    present = connection.execute(
        """
        select schema_name, table_name, 'table' from duckdb_tables()
        where database_name = current_database() and list_contains(?, schema_name)
        union all
        select schema_name, view_name, 'view' from duckdb_views()
        where database_name = current_database() and not internal
          and list_contains(?, schema_name)
        order by 1, 2
        """,
        [schemas, schemas],
    ).fetchall()
    dropped = []
    for schema, name, kind in present:
        if (schema, name) in built:
            continue
        # Names come from DuckDB's own catalogue; quoted as identifiers.
        quoted = '"' + schema.replace('"', '""') + '"."' + name.replace('"', '""') + '"'
        connection.execute(f"drop {kind} if exists {quoted} cascade")
        dropped.append(f"{schema}.{name}")
    return dropped
