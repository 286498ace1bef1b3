"""What is served and to whom: each table's access, and the grants and row policies enforcing it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import psycopg
from psycopg import sql

from warehouse.serving.column_types import (
    postgres_type,
)
from warehouse.serving.model import (
    GOVERNMENT,
    IDENTIFIER,
    INCOMING_SUFFIX,
    PERSONAL_COLUMN,
    SHARED_TABLES,
    TABLE_SECTORS,
    Access,
    AccessKind,
    Column,
    Ministry,
    ServedTable,
    ServingError,
    ServingRoles,
    ident,
)


def sector_in_name(name: str, sectors: Sequence[str]) -> str | None:
    """The sector a table's name names (``fct_<sector>_...``, ``ind_<sector>_monthly``)."""
    padded = f"_{name}_"
    for sector in sorted(sectors, key=len, reverse=True):
        if f"_{sector}_" in padded:
            return sector
    return TABLE_SECTORS.get(name)


def table_access(name: str, column_names: Sequence[str], sectors: Sequence[str]) -> Access:
    """Who may read a served table (see the module's docstring)."""
    if name in SHARED_TABLES:
        return Access("shared")
    sector = sector_in_name(name, sectors)
    if sector is not None:
        return Access("one_sector", sector=sector)
    row_keys: tuple[tuple[str, AccessKind], ...] = (
        ("ministry_id", "ministry_rows"),
        ("sector", "sector_rows"),
        ("indicator_id", "indicator_rows"),
        ("system_name", "system_rows"),
    )
    for column, kind in row_keys:
        if column in column_names:
            return Access(kind, column=column)
    return Access("government_only")


def read_ministries(snapshot: duckdb.DuckDBPyConnection) -> tuple[Ministry, ...]:
    rows = snapshot.execute(
        "select ministry_id, sectors from marts.dim_ministries order by ministry_id"
    ).fetchall()
    ministries = []
    for ministry_id, sectors in rows:
        if not IDENTIFIER.match(ministry_id) or ministry_id == GOVERNMENT:
            raise ServingError(f"ministry id {ministry_id!r} cannot name a role")
        ministries.append(Ministry(ministry_id, tuple(s.strip() for s in sectors.split(","))))
    return tuple(ministries)


def served_tables(snapshot: duckdb.DuckDBPyConnection, sectors: Sequence[str]) -> list[ServedTable]:
    """Every table and view of the served schemas, with its PostgreSQL columns and access; the
    intermediate steps dbt keeps in the indicators schema (``int_*``) stay in the warehouse."""
    rows = snapshot.execute(
        """
        select schema_name, table_name, column_name, data_type, comment
        from duckdb_columns()
        where
            schema_name in ('marts', 'indicators')
            and not internal
            and not starts_with(table_name, 'int_')
        order by schema_name, table_name, column_index
        """
    ).fetchall()
    # dbt's descriptions (persist_docs) go along, for the BI tools that show them.
    comments = dict(
        ((schema, name), comment)
        for schema, name, comment in snapshot.execute(
            "select schema_name, table_name, comment from duckdb_tables()"
            " union all select schema_name, view_name, comment from duckdb_views()"
        ).fetchall()
    )
    by_table: dict[tuple[str, str], list[Column]] = {}
    for schema, table, column, data_type, comment in rows:
        by_table.setdefault((schema, table), []).append(
            Column(column, data_type, postgres_type(data_type), comment or None)
        )
    tables = []
    for (schema, table), columns in by_table.items():
        for name in (table, *(c.name for c in columns)):
            if not IDENTIFIER.match(name):
                raise ServingError(f"{schema}.{table}: {name!r} is not a plain lowercase name")
        personal = [c.name for c in columns if PERSONAL_COLUMN.search(c.name)]
        if personal:
            raise ServingError(
                f"{schema}.{table} has columns that look personal ({', '.join(personal)}):"
                " only aggregates are served"
            )
        access = table_access(table, [c.name for c in columns], sectors)
        comment = comments.get((schema, table)) or None
        tables.append(ServedTable(schema, table, tuple(columns), access, comment))
    return tables


@dataclass(frozen=True)
class RowKeys:
    """Who owns each indicator (its catalogue's ministry) and each sector system (its sector's
    ministry), read from the snapshot."""

    indicator_ministries: dict[str, str]
    system_sectors: dict[str, str]

    def values(self, kind: str, ministry: Ministry) -> list[str]:
        """The values of a shared table's key column that belong to ``ministry``."""
        if kind == "sector_rows":
            return list(ministry.sectors)
        if kind == "ministry_rows":
            return [ministry.ministry_id]
        if kind == "indicator_rows":
            owned = self.indicator_ministries.items()
            return sorted(key for key, owner in owned if owner == ministry.ministry_id)
        owned = self.system_sectors.items()
        return sorted(key for key, sector in owned if sector in ministry.sectors)


def read_row_keys(snapshot: duckdb.DuckDBPyConnection) -> RowKeys:
    indicators = snapshot.execute(
        "select indicator_id, ministry_id from indicators.dim_indicators"
    ).fetchall()
    systems = snapshot.execute(
        "select system_name, sector from reference.ref_delivery_schedules"
    ).fetchall()
    return RowKeys(dict(indicators), dict(systems))


def row_filter(table: ServedTable, ministry: Ministry, keys: RowKeys) -> sql.Composable:
    """The policy expression of a ministry's rows of a shared table: its values spelt out, so
    the policy travels with the table and needs no other table at query time."""
    values = keys.values(table.access.kind, ministry)
    if not values:
        return sql.SQL("false")
    return sql.SQL("{} in ({})").format(
        ident(table.access.column or ""), sql.SQL(", ").join(sql.Literal(v) for v in values)
    )


def secure_table(
    pg: psycopg.Connection, table: ServedTable, roles: ServingRoles, keys: RowKeys
) -> list[str]:
    """Grant SELECT and create the row policies of one incoming table; returns its readers."""
    address = ident(table.schema + INCOMING_SUFFIX, table.name)
    access = table.access
    if access.kind == "shared":
        readers = roles.groups
    elif access.kind == "government_only":
        readers = [roles.government]
    elif access.kind == "one_sector":
        ministry = roles.ministry_of_sector(access.sector or "")
        readers = [roles.government] + ([roles.group(ministry.ministry_id)] if ministry else [])
    else:
        readers = roles.groups
        pg.execute(sql.SQL("alter table {} enable row level security").format(address))
        # The planner's estimates come from column statistics of every row, other ministries'
        # included, and `explain` shows them to anyone: a row-secured table keeps none.
        for column in table.columns:
            pg.execute(
                sql.SQL("alter table {} alter column {} set statistics 0").format(
                    address, ident(column.name)
                )
            )
        pg.execute(
            sql.SQL("create policy {} on {} for select to {} using (true)").format(
                ident(GOVERNMENT), address, ident(roles.government)
            )
        )
        for ministry in roles.ministries:
            pg.execute(
                sql.SQL("create policy {} on {} for select to {} using ({})").format(
                    ident(ministry.ministry_id),
                    address,
                    ident(roles.group(ministry.ministry_id)),
                    row_filter(table, ministry, keys),
                )
            )
    pg.execute(
        sql.SQL("grant select on {} to {}").format(
            address, sql.SQL(", ").join(ident(r) for r in readers)
        )
    )
    return readers
