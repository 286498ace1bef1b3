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
    Access,
    AccessKind,
    Column,
    Ministry,
    ServedTable,
    ServingError,
    ServingRoles,
    ident,
)

# The values of a model's ``meta.access`` (dbt_project.yml), and what a row-secured table's
# rows are keyed by, in the order they are looked for.
DECLARED_ACCESS = ("internal", "shared", "sector", "rows", "government")
ROW_KEYS: tuple[tuple[str, AccessKind], ...] = (
    ("ministry_id", "ministry_rows"),
    ("sector", "sector_rows"),
    ("indicator_id", "indicator_rows"),
    ("system_name", "system_rows"),
)


def table_access(
    name: str, column_names: Sequence[str], declared: str | None, sector: str | None = None
) -> Access:
    """Who may read a served table, as its dbt model declares (see the module's docstring):
    ``declared`` is its ``meta.access``, ``sector`` its ``meta.sector``."""
    if declared == "shared":
        return Access("shared")
    if declared == "sector":
        if not sector:
            raise ServingError(f"{name}: meta access is sector, but it names no meta sector")
        return Access("one_sector", sector=sector)
    if declared == "rows":
        for column, kind in ROW_KEYS:
            if column in column_names:
                return Access(kind, column=column)
        raise ServingError(
            f"{name}: meta access is rows, but it has none of the columns that key them"
            f" ({', '.join(column for column, _ in ROW_KEYS)})"
        )
    if declared in (None, "government"):
        # A model that says nothing stays the government's until someone decides.
        return Access("government_only")
    raise ServingError(
        f"{name}: meta access {declared!r} is not one of {', '.join(DECLARED_ACCESS)}"
    )


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


def served_tables(snapshot: duckdb.DuckDBPyConnection) -> list[ServedTable]:
    """Every table and view of the served schemas that its model does not keep internal, with
    its PostgreSQL columns and access as the snapshot's ``docs.tables`` records them from dbt's
    manifest."""
    try:
        declared = {
            (schema, name): (sector, access)
            for schema, name, sector, access in snapshot.execute(
                "select schema_name, table_name, sector, access from docs.tables"
            ).fetchall()
        }
    except (duckdb.BinderException, duckdb.CatalogException):
        raise ServingError(
            "the snapshot does not record who may read its tables (docs.tables.access): it"
            " was published by an earlier version; run the daily job to publish a new one"
        ) from None
    rows = snapshot.execute(
        """
        select schema_name, table_name, column_name, data_type, comment
        from duckdb_columns()
        where schema_name in ('marts', 'indicators') and not internal
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
        sector, access_declared = declared.get((schema, table), (None, None))
        if access_declared == "internal":
            continue
        for name in (table, *(c.name for c in columns)):
            if not IDENTIFIER.match(name):
                raise ServingError(f"{schema}.{table}: {name!r} is not a plain lowercase name")
        personal = [c.name for c in columns if PERSONAL_COLUMN.search(c.name)]
        if personal:
            raise ServingError(
                f"{schema}.{table} has columns that look personal ({', '.join(personal)}):"
                " only aggregates are served"
            )
        access = table_access(table, [c.name for c in columns], access_declared, sector)
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
