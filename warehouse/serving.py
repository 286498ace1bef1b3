"""Publish the snapshot's marts and indicators to the PostgreSQL serving database for BI tools.

BI tools (Superset, Metabase, Power BI, Excel) speak PostgreSQL, not DuckDB, and a ministry may
see only its own sector. So after every green run the published snapshot (never the pipeline's
own warehouse file) is copied into a real PostgreSQL database:

* every table and view of the ``marts`` and ``indicators`` schemas becomes a table of the same
  schema and name, its columns mapped to PostgreSQL types (:func:`postgres_type`), its rows sent
  by COPY as CSV rendered from Arrow batches (:func:`copy_expression`);
* everything is loaded into fresh schemas (``marts__incoming``, ``indicators__incoming``,
  ``serving__incoming``) and granted and secured there in one transaction; then ONE more
  transaction locks every live table (ACCESS EXCLUSIVE, ``serving`` first), renames the live
  schemas away and the incoming ones in, and drops the old. A statement never sees half a
  publication; a transaction that has read anything served keeps its version to the end (the
  swap waits for it, and gives way before PostgreSQL's deadlock timeout rather than stop it);
* ``serving.publications`` records every publication (snapshot id, time, row count of every
  table) and ``serving.publication`` holds the one in force. They are swapped with the tables,
  so a transaction that reads ``serving.publication`` first reads that version of everything;
* roles (names from a prefix, default ``maglumat_``): per ministry of ``marts.dim_ministries``
  a NOLOGIN group role ``<prefix><ministry_id>`` holding its grants and policies, and
  ``<prefix>government`` that sees everything. People log in as their own roles, members of
  one group (:mod:`warehouse.serving_users`, ``maglumat serving add-user``); the shared
  ``..._bi`` logins of earlier versions are disabled on the next publication. Groups may only
  SELECT: no other table privilege, no CREATE or TEMP, CONNECT for them alone, and every
  person's sessions read-only with a statement and an idle-in-transaction timeout;
* no reader can hold a publication up (:class:`ServingPolicy`): publications exclude each
  other with a lock on a table only the publisher can reach (not an advisory lock, which any
  login can take), and give up naming its holder after a deadline; the swap names the sessions
  it waits for and ends a reader's session that keeps it waiting past a grace period;
* catalog side channels: the row-secured tables keep no column statistics, so the planner's
  estimates (``explain``) carry no other ministry's values; what remains visible to every
  role is each table's total size (``docs/bi-guide.md``).

How each served table is shared (:func:`table_access`):

* reference dimensions everyone joins to (regions, dates, ministries): every role;
* a table that belongs to one sector (its name says which, or :data:`TABLE_SECTORS`): that
  sector's ministry and the government only;
* shared long tables: row-level security by their ``ministry_id`` or ``sector`` column, by the
  owner ministry of their ``indicator_id`` (``indicators.dim_indicators``) or the sector of
  their ``system_name`` (``reference.ref_delivery_schedules``). Each policy spells out its
  values, so it travels with its table and needs no other table at query time;
* anything else: the government only (a new mart stays closed until someone decides).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import psycopg
import pyarrow.csv as pacsv
from psycopg import errors, sql

from warehouse.duck import read_only_connection

SERVED_SCHEMAS = ("marts", "indicators")
SERVING_SCHEMA = "serving"
# Swapped together; the publication record first, the schema readers pin a version with.
SWAPPED_SCHEMAS = (SERVING_SCHEMA, *SERVED_SCHEMAS)
INCOMING_SUFFIX = "__incoming"
RETIRED_SUFFIX = "__retired"
DEFAULT_ROLE_PREFIX = "maglumat_"
GOVERNMENT = "government"
LOGIN_SUFFIX = "_bi"

# Dimensions that carry no ministry's figures and that every ministry's facts join to (the
# names of coded breakdowns are vocabulary: bodies, systems, products, terms).
SHARED_TABLES = frozenset({"dim_regions", "dim_dates", "dim_ministries", "dim_breakdowns"})
# Tables of one sector whose names do not say so (the agriculture campaign spine).
TABLE_SECTORS = {
    "dim_campaigns": "agriculture",
    "dim_farms": "agriculture",
    "fct_campaign_daily_progress": "agriculture",
    "ind_campaign_progress": "agriculture",
    "ind_lagging_districts": "agriculture",
}
# Columns that identify a person, which would make a row a person's record rather than an
# aggregate: a table with one is never served (medical data reach BI tools only as aggregates).
PERSONAL_COLUMN = re.compile(
    r"(^|_)(patient|person|citizen|employee)_(id|code|number)$"
    r"|(^|_)(passport|date_of_birth|birth_date|full_name|first_name|last_name|phone)(_|$)"
)
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
MAX_IDENTIFIER_LENGTH = 63

# The swap waits this long for a reader's lock, then gives way and tries again: below
# PostgreSQL's deadlock_timeout (1 s by default), so a reader is never the deadlock victim.
SWAP_LOCK_TIMEOUT = "500ms"
COPY_BATCH_ROWS = 100_000
# Publications exclude each other by locking this table, in a schema no reader can use.
CONTROL_SCHEMA = "maglumat_control"
PUBLISHER_LOCK_TABLE = "publisher"
PUBLISHER_APPLICATION = "maglumat publish-serving"


@dataclass(frozen=True)
class ServingPolicy:
    """How long a publication waits for others, and what it does about readers in its way.

    Attributes:
        start_timeout_seconds: how long to wait for another publication to finish before
            giving up, naming the session that holds it.
        swap_timeout_seconds: how long the swap may wait for sessions that are not BI readers
            (a DBA's) before giving up; the previous publication stays in place.
        reader_grace_seconds: a BI reader's session that keeps the swap waiting this long, or
            that has been idle in a transaction this long, is ended when
            ``end_blocking_readers`` is on (the default); otherwise it is only named.
        statement_timeout, idle_in_transaction_timeout: every BI person's session defaults,
            set again at each publication (PostgreSQL interval text).
        connection_limit: connections one person may hold at once.
    """

    start_timeout_seconds: float = 300.0
    swap_timeout_seconds: float = 600.0
    reader_grace_seconds: float = 60.0
    end_blocking_readers: bool = True
    statement_timeout: str = "15min"
    idle_in_transaction_timeout: str = "5min"
    connection_limit: int = 10

    def __post_init__(self) -> None:
        for name in ("statement_timeout", "idle_in_transaction_timeout"):
            if not re.fullmatch(r"\d+\s*(ms|s|min|h)?", getattr(self, name)):
                raise ValueError(f"{name} {getattr(self, name)!r}: write e.g. 15min, 30s, 500ms")
        if self.connection_limit < 1:
            raise ValueError("connection_limit: at least 1")


AccessKind = Literal[
    "shared",
    "one_sector",
    "sector_rows",
    "ministry_rows",
    "indicator_rows",
    "system_rows",
    "government_only",
]


class ServingError(RuntimeError):
    """The serving database could not be published (it keeps its previous publication)."""


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    postgres_type: str
    comment: str | None = None


@dataclass(frozen=True)
class Access:
    """Who may read a served table: every role, one sector's ministry, or rows by a column."""

    kind: AccessKind
    sector: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class ServedTable:
    schema: str
    name: str
    columns: tuple[Column, ...]
    access: Access
    comment: str | None = None

    @property
    def address(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Ministry:
    ministry_id: str
    sectors: tuple[str, ...]


@dataclass(frozen=True)
class ServingRoles:
    """Role names derived from the prefix: a group role per ministry and the government's."""

    prefix: str
    ministries: tuple[Ministry, ...]

    def __post_init__(self) -> None:
        if not IDENTIFIER.match(self.prefix):
            raise ValueError(f"role prefix {self.prefix!r} is not a plain lowercase name")
        longest = max(len(self.shared_login(group)) for group in self.groups)
        if longest > MAX_IDENTIFIER_LENGTH:  # PostgreSQL would cut the names short
            raise ValueError(f"role prefix {self.prefix!r} makes role names too long")

    def group(self, ministry_id: str) -> str:
        return f"{self.prefix}{ministry_id}"

    @property
    def government(self) -> str:
        return self.group(GOVERNMENT)

    def shared_login(self, group: str) -> str:
        """The one login per ministry of earlier versions, disabled since people have their own."""
        return f"{group}{LOGIN_SUFFIX}"

    @property
    def groups(self) -> list[str]:
        return [self.government, *(self.group(m.ministry_id) for m in self.ministries)]

    def ministry_of_sector(self, sector: str) -> Ministry | None:
        return next((m for m in self.ministries if sector in m.sectors), None)


@dataclass(frozen=True)
class Session:
    """A PostgreSQL session another one waits for."""

    pid: int
    role: str
    application: str
    state: str
    since: dt.datetime | None
    is_reader: bool

    def describe(self) -> str:
        since = f" since {self.since:%Y-%m-%d %H:%M:%S %Z}" if self.since else ""
        application = f", application {self.application!r}" if self.application else ""
        return f"pid {self.pid} (role {self.role}{application}, {self.state}{since})"


@dataclass(frozen=True)
class Publication:
    snapshot_id: str
    published_at: dt.datetime
    table_rows: dict[str, int]
    roles: list[str]
    seconds: float
    swap_attempts: int
    closed_tables: list[str] = field(default_factory=list)
    # How long readers could not read: from the swap's first exclusive lock to its commit.
    swap_lock_seconds: float = 0.0
    # What the publication did besides the copy: sessions it ended, logins it disabled.
    events: list[str] = field(default_factory=list)


# --- types -----------------------------------------------------------------------------------

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


# --- what is served, and to whom -------------------------------------------------------------


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


# --- PostgreSQL ------------------------------------------------------------------------------


def _ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


def _load_publication_record(
    pg: psycopg.Connection,
    roles: ServingRoles,
    snapshot_id: str,
    table_rows: dict[str, int],
    load_seconds: float,
    events: list[str],
) -> dt.datetime:
    """The incoming ``serving`` schema: the history so far plus this publication, and the one
    in force. It is swapped in with the tables it describes, so a reader that pins a version
    by reading ``serving.publication`` first reads that very version of every table."""
    incoming = SERVING_SCHEMA + INCOMING_SUFFIX
    pg.execute(
        sql.SQL(
            """
            create table {history} (
                publication_id bigint primary key,
                snapshot_id text not null,
                published_at timestamptz not null,
                table_count integer not null,
                row_count bigint not null,
                table_rows jsonb not null,
                load_seconds double precision not null,
                events jsonb not null default '[]'
            );
            comment on table {history} is
                'Every publication of the warehouse snapshot to this database: snapshot id,'
                ' time, the row count of each table, and what it did besides (sessions it'
                ' ended, logins it disabled).'
            """
        ).format(history=_ident(incoming, "publications"))
    )
    if pg.execute("select to_regclass('serving.publications')").fetchone() != (None,):
        # The history of an earlier version may lack later columns: copy the ones it has.
        kept = [
            row[0]
            for row in pg.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'serving' and table_name = 'publications'"
                " order by ordinal_position"
            ).fetchall()
        ]
        columns = sql.SQL(", ").join(_ident(column) for column in kept)
        pg.execute(
            sql.SQL("insert into {} ({}) select {} from serving.publications").format(
                _ident(incoming, "publications"), columns, columns
            )
        )
    row = pg.execute(
        sql.SQL(
            """
            insert into {history}
            select coalesce(max(publication_id), 0) + 1, %s, clock_timestamp(), %s, %s, %s, %s, %s
            from {history}
            returning published_at
            """
        ).format(history=_ident(incoming, "publications")),
        [
            snapshot_id,
            len(table_rows),
            sum(table_rows.values()),
            json.dumps(table_rows, sort_keys=True),
            load_seconds,
            json.dumps(events),
        ],
    ).fetchone()
    assert row is not None
    pg.execute(
        sql.SQL(
            """
            create table {current} as
                select snapshot_id, published_at from {history}
                order by publication_id desc limit 1;
            comment on table {current} is
                'The snapshot this database holds now. Read it first in a transaction: every'
                ' table then stays at this version until the transaction ends.'
            """
        ).format(current=_ident(incoming, "publication"), history=_ident(incoming, "publications"))
    )
    everyone = sql.SQL(", ").join(_ident(g) for g in roles.groups)
    pg.execute(
        sql.SQL("grant select on {} to {}").format(_ident(incoming, "publication"), everyone)
    )
    pg.execute(
        sql.SQL("grant select on {} to {}").format(
            _ident(incoming, "publications"), _ident(roles.government)
        )
    )
    return row[0]


def _ensure_roles(pg: psycopg.Connection, roles: ServingRoles, policy: ServingPolicy) -> list[str]:
    """Group roles, created when missing; CONNECT for them alone; every person's session
    defaults set again. Returns what it changed that an administrator should hear of."""
    events: list[str] = []
    existing = {row[0] for row in pg.execute("select rolname from pg_roles").fetchall()}
    for group in roles.groups:
        if group not in existing:
            pg.execute(sql.SQL("create role {} nologin").format(_ident(group)))
        shared = roles.shared_login(group)
        disabled = pg.execute(
            "select rolcanlogin from pg_roles where rolname = %s", [shared]
        ).fetchone()
        if disabled == (True,):
            # One login per ministry let a colleague's `alter role` lock everyone out.
            pg.execute(sql.SQL("alter role {} nologin").format(_ident(shared)))
            events.append(
                f"shared login {shared} disabled: people now log in as themselves"
                f" (maglumat serving add-user NAME --ministry {group.removeprefix(roles.prefix)})"
            )
    for person in people_of(pg, roles):
        apply_session_defaults(pg, person, policy)
    database = pg.execute("select current_database()").fetchone()
    assert database is not None
    # The serving database is the BI tools' alone: nobody but its owner creates anything in it,
    # and only the BI groups connect (a connection is enough to take locks and advisory locks).
    pg.execute(
        sql.SQL("revoke connect, create, temporary on database {} from public").format(
            _ident(database[0])
        )
    )
    pg.execute("revoke create on schema public from public")
    pg.execute(
        sql.SQL("grant connect on database {} to {}").format(
            _ident(database[0]), sql.SQL(", ").join(_ident(g) for g in roles.groups)
        )
    )
    return events


def people_of(pg: psycopg.Connection, roles: ServingRoles) -> list[str]:
    """The login roles that are members of a BI group: the people who read the database."""
    rows = pg.execute(
        """
        select distinct member.rolname
        from pg_auth_members as membership
        inner join pg_roles as grp on membership.roleid = grp.oid
        inner join pg_roles as member on membership.member = member.oid
        where grp.rolname = any(%s) and member.rolcanlogin
        order by member.rolname
        """,
        [roles.groups],
    ).fetchall()
    return [row[0] for row in rows]


def apply_session_defaults(pg: psycopg.Connection, person: str, policy: ServingPolicy) -> None:
    """A reader's sessions: read-only, statements and idle transactions bounded, a few
    connections at most. Set again at every publication: a person may change their own."""
    role = _ident(person)
    for setting, value in (
        ("default_transaction_read_only", "on"),
        ("statement_timeout", policy.statement_timeout),
        ("idle_in_transaction_session_timeout", policy.idle_in_transaction_timeout),
    ):
        pg.execute(
            sql.SQL("alter role {} set {} = {}").format(role, sql.SQL(setting), sql.Literal(value))
        )
    pg.execute(
        sql.SQL("alter role {} connection limit {}").format(
            role, sql.Literal(policy.connection_limit)
        )
    )


def _drop_schemas(pg: psycopg.Connection, suffix: str) -> None:
    for schema in SWAPPED_SCHEMAS:
        pg.execute(sql.SQL("drop schema if exists {} cascade").format(_ident(schema + suffix)))


def _load_table(
    pg: psycopg.Connection, snapshot: duckdb.DuckDBPyConnection, table: ServedTable
) -> int:
    """Create the incoming table and COPY the snapshot's rows into it as CSV from Arrow
    batches (no row passes through Python objects)."""
    target = _ident(table.schema + INCOMING_SUFFIX, table.name)
    pg.execute(
        sql.SQL("create table {} ({})").format(
            target,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(_ident(c.name), sql.SQL(c.postgres_type))
                for c in table.columns
            ),
        )
    )
    if table.comment:
        pg.execute(sql.SQL("comment on table {} is {}").format(target, sql.Literal(table.comment)))
    for column in table.columns:
        if column.comment:
            pg.execute(
                sql.SQL("comment on column {} is {}").format(
                    _ident(table.schema + INCOMING_SUFFIX, table.name, column.name),
                    sql.Literal(column.comment),
                )
            )
    columns = ", ".join(copy_expression(c) for c in table.columns)
    query = f'select {columns} from "{table.schema}"."{table.name}"'  # noqa: S608 - names checked
    batches = snapshot.execute(query).to_arrow_reader(COPY_BATCH_ROWS)
    written = 0
    options = pacsv.WriteOptions(include_header=False)
    with pg.cursor().copy(sql.SQL("copy {} from stdin (format csv)").format(target)) as copy:
        for batch in batches:
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, options)
            copy.write(buffer.getbuffer())
            written += batch.num_rows
    return written


def _row_filter(table: ServedTable, ministry: Ministry, keys: RowKeys) -> sql.Composable:
    """The policy expression of a ministry's rows of a shared table: its values spelt out, so
    the policy travels with the table and needs no other table at query time."""
    values = keys.values(table.access.kind, ministry)
    if not values:
        return sql.SQL("false")
    return sql.SQL("{} in ({})").format(
        _ident(table.access.column or ""), sql.SQL(", ").join(sql.Literal(v) for v in values)
    )


def _secure_table(
    pg: psycopg.Connection, table: ServedTable, roles: ServingRoles, keys: RowKeys
) -> list[str]:
    """Grant SELECT and create the row policies of one incoming table; returns its readers."""
    address = _ident(table.schema + INCOMING_SUFFIX, table.name)
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
                    address, _ident(column.name)
                )
            )
        pg.execute(
            sql.SQL("create policy {} on {} for select to {} using (true)").format(
                _ident(GOVERNMENT), address, _ident(roles.government)
            )
        )
        for ministry in roles.ministries:
            pg.execute(
                sql.SQL("create policy {} on {} for select to {} using ({})").format(
                    _ident(ministry.ministry_id),
                    address,
                    _ident(roles.group(ministry.ministry_id)),
                    _row_filter(table, ministry, keys),
                )
            )
    pg.execute(
        sql.SQL("grant select on {} to {}").format(
            address, sql.SQL(", ").join(_ident(r) for r in readers)
        )
    )
    return readers


_BLOCKING_SESSIONS = """
    select distinct on (activity.pid)
        activity.pid,
        coalesce(activity.usename, activity.backend_type),  -- autovacuum has no role
        coalesce(activity.application_name, ''),
        coalesce(activity.state, ''),
        case when activity.state like 'idle in transaction%%'
            then activity.state_change else activity.xact_start end,
        exists (
            select from unnest(%(groups)s::text[]) as grp(name)
            where pg_has_role(activity.usesysid, grp.name, 'member')
        ),
        extract(epoch from clock_timestamp() - activity.state_change)
    from pg_locks as locks
    inner join pg_class as class on locks.relation = class.oid
    inner join pg_namespace as namespace on class.relnamespace = namespace.oid
    inner join pg_stat_activity as activity on locks.pid = activity.pid
    where
        locks.granted
        and locks.pid <> pg_backend_pid()
        and namespace.nspname = any(%(schemas)s)
    order by activity.pid
"""


def blocking_sessions(pg: psycopg.Connection, roles: ServingRoles) -> list[tuple[Session, float]]:
    """The sessions holding a lock on a live served table, each with the seconds since its
    state last changed (for a session idle in a transaction: how long it has been idle)."""
    rows = pg.execute(
        _BLOCKING_SESSIONS, {"groups": roles.groups, "schemas": list(SWAPPED_SCHEMAS)}
    ).fetchall()
    return [
        (Session(pid, role, application, state, since, is_reader), float(idle or 0.0))
        for pid, role, application, state, since, is_reader, idle in rows
    ]


def _end_session(pg: psycopg.Connection, session: Session) -> str | None:
    """End a reader's session; None when the publisher may not (it needs pg_signal_backend)."""
    try:
        ended = pg.execute("select pg_terminate_backend(%s)", [session.pid]).fetchone()
    except errors.InsufficientPrivilege:
        return None
    return "ended" if ended == (True,) else "gone"


def _swap(
    pg: psycopg.Connection,
    roles: ServingRoles,
    policy: ServingPolicy,
    events: list[str],
    log: Callable[[str], None],
) -> tuple[int, float]:
    """Put the incoming schemas in place of the live ones in one transaction; returns the
    number of attempts and how long readers were locked out.

    It first takes every live table's ACCESS EXCLUSIVE lock, the publication record's first,
    so it waits for readers in the middle of a transaction on them. When a lock does not come
    within the lock timeout it rolls back, names who holds the tables and tries again; a BI
    reader that keeps it waiting past the grace period (or sits idle in a transaction that
    long) has its session ended, when the policy says so.
    """
    started = time.monotonic()
    deadline = started + policy.swap_timeout_seconds
    attempt = 0
    everyone = sql.SQL(", ").join(_ident(g) for g in roles.groups)
    named: set[int] = set()
    unendable: set[int] = set()
    while True:
        attempt += 1
        try:
            with pg.transaction():
                pg.execute(
                    sql.SQL("set local lock_timeout = {}").format(sql.Literal(SWAP_LOCK_TIMEOUT))
                )
                live = pg.execute(
                    """
                    select n.nspname, c.relname
                    from pg_class as c
                    inner join pg_namespace as n on c.relnamespace = n.oid
                    where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p')
                    order by array_position(%s, n.nspname::text), c.relname
                    """,
                    [list(SWAPPED_SCHEMAS), list(SWAPPED_SCHEMAS)],
                ).fetchall()
                locking = time.monotonic()
                for schema, name in live:
                    pg.execute(
                        sql.SQL("lock table {} in access exclusive mode").format(
                            _ident(schema, name)
                        )
                    )
                if events:
                    pg.execute(
                        sql.SQL(
                            "update {} set events = %s"
                            " where publication_id = (select max(publication_id) from {})"
                        ).format(
                            _ident(SERVING_SCHEMA + INCOMING_SUFFIX, "publications"),
                            _ident(SERVING_SCHEMA + INCOMING_SUFFIX, "publications"),
                        ),
                        [json.dumps(events)],
                    )
                live_schemas = {
                    row[0]
                    for row in pg.execute(
                        "select nspname from pg_namespace where nspname = any(%s)",
                        [list(SWAPPED_SCHEMAS)],
                    ).fetchall()
                }
                for schema in SWAPPED_SCHEMAS:
                    if schema in live_schemas:
                        pg.execute(
                            sql.SQL("alter schema {} rename to {}").format(
                                _ident(schema), _ident(schema + RETIRED_SUFFIX)
                            )
                        )
                    pg.execute(
                        sql.SQL("alter schema {} rename to {}").format(
                            _ident(schema + INCOMING_SUFFIX), _ident(schema)
                        )
                    )
                    pg.execute(
                        sql.SQL("grant usage on schema {} to {}").format(_ident(schema), everyone)
                    )
                _drop_schemas(pg, RETIRED_SUFFIX)
            return attempt, time.monotonic() - locking
        except errors.LockNotAvailable as error:
            waited = time.monotonic() - started
            blockers = blocking_sessions(pg, roles)
            for session, idle_seconds in blockers:
                overdue = waited >= policy.reader_grace_seconds or (
                    session.state.startswith("idle in transaction")
                    and idle_seconds >= policy.reader_grace_seconds
                )
                if (
                    policy.end_blocking_readers
                    and session.is_reader
                    and overdue
                    and session.pid not in unendable
                ):
                    outcome = _end_session(pg, session)
                    if outcome is None:
                        unendable.add(session.pid)
                        log(
                            f"cannot end {session.describe()}: the publisher needs the"
                            " pg_signal_backend role to end readers; waiting for it"
                        )
                        continue
                    event = (
                        f"ended the session {session.describe()}: it kept the swap waiting"
                        f" {waited:.0f} s (grace {policy.reader_grace_seconds:.0f} s)"
                    )
                    events.append(event)
                    log(event)
                elif session.pid not in named:
                    named.add(session.pid)
                    log(f"the swap waits for {session.describe()}")
            if time.monotonic() > deadline:
                who = "; ".join(session.describe() for session, _ in blockers) or "no one now"
                raise ServingError(
                    f"the swap waited {policy.swap_timeout_seconds:.0f} s for sessions holding"
                    f" the served tables ({who}); the previous publication stays in place"
                ) from error
            time.sleep(min(0.2 * attempt, 2.0))


@contextlib.contextmanager
def publisher_lock(dsn: str, timeout_seconds: float) -> Iterator[None]:
    """Hold the publisher's lock for the block: a lock on a table in a schema no reader has
    any privilege on, held by a transaction of its own connection (a crashed publisher's
    connection closes and frees it). Gives up after ``timeout_seconds`` naming its holder."""
    control = _ident(CONTROL_SCHEMA, PUBLISHER_LOCK_TABLE)
    with psycopg.connect(dsn, autocommit=True, application_name=PUBLISHER_APPLICATION) as holder:
        holder.execute("set idle_in_transaction_session_timeout = 0")
        holder.execute("set lock_timeout = '1s'")
        exists = holder.execute(
            "select to_regclass(%s) is not null", [f"{CONTROL_SCHEMA}.{PUBLISHER_LOCK_TABLE}"]
        ).fetchone()
        if exists != (True,):
            try:
                with holder.transaction():
                    holder.execute(
                        sql.SQL("create schema if not exists {}").format(_ident(CONTROL_SCHEMA))
                    )
                    holder.execute(
                        sql.SQL("revoke all on schema {} from public").format(
                            _ident(CONTROL_SCHEMA)
                        )
                    )
                    holder.execute(
                        sql.SQL(
                            "create table if not exists {} (note text);"
                            " comment on table {} is 'Locked by the publication in progress.'"
                        ).format(control, control)
                    )
            except (errors.UniqueViolation, errors.DuplicateObject, errors.DuplicateTable):
                pass  # another publisher created it at the same moment
        deadline = time.monotonic() + timeout_seconds
        holder.autocommit = False
        while True:
            try:
                holder.execute(sql.SQL("lock table {} in exclusive mode").format(control))
                break
            except errors.LockNotAvailable:
                holder.rollback()
                if time.monotonic() > deadline:
                    raise ServingError(
                        f"another publication is in progress ({_lock_holders(dsn)}); gave up"
                        f" after {timeout_seconds:.0f} s"
                    ) from None
        try:
            yield
        finally:
            holder.rollback()


def _lock_holders(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as pg:
        rows = pg.execute(
            """
            select activity.pid, activity.usename, coalesce(activity.application_name, ''),
                coalesce(activity.state, ''), activity.xact_start
            from pg_locks as locks
            inner join pg_stat_activity as activity on locks.pid = activity.pid
            where locks.granted and locks.relation = to_regclass(%s)
            """,
            [f"{CONTROL_SCHEMA}.{PUBLISHER_LOCK_TABLE}"],
        ).fetchall()
    sessions = [Session(*row, is_reader=False) for row in rows]
    return "; ".join(f"held by {session.describe()}" for session in sessions) or "its holder left"


def publish_to_postgres(
    snapshot_path: Path,
    snapshot_id: str,
    dsn: str,
    role_prefix: str = DEFAULT_ROLE_PREFIX,
    *,
    policy: ServingPolicy | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> Publication:
    """Publish one snapshot's marts and indicators to the serving database at ``dsn``.

    The DSN's user owns the serving database and may create roles (``CREATEROLE``); to end
    readers that hold the swap up it needs the ``pg_signal_backend`` role as well. Nothing is
    visible to the BI roles until the swap; a failure before it leaves the previous publication
    untouched (the incoming schemas are dropped).
    """
    policy = policy or ServingPolicy()
    started = time.monotonic()
    snapshot = read_only_connection(snapshot_path)
    try:
        ministries = read_ministries(snapshot)
        roles = ServingRoles(role_prefix, ministries)
        sectors = [sector for ministry in ministries for sector in ministry.sectors]
        tables = served_tables(snapshot, sectors)
        keys = read_row_keys(snapshot)
        with (
            publisher_lock(dsn, policy.start_timeout_seconds),
            psycopg.connect(dsn, autocommit=True, application_name=PUBLISHER_APPLICATION) as pg,
        ):
            # The server's or the publisher role's own limits are not the readers' business.
            pg.execute("set statement_timeout = 0")
            pg.execute("set idle_in_transaction_session_timeout = 0")
            with pg.transaction():
                events = _ensure_roles(pg, roles, policy)
            for event in events:
                log(event)
            table_rows: dict[str, int] = {}
            closed: list[str] = []
            try:
                with pg.transaction():
                    _drop_schemas(pg, INCOMING_SUFFIX)
                    _drop_schemas(pg, RETIRED_SUFFIX)
                    for schema in SWAPPED_SCHEMAS:
                        pg.execute(
                            sql.SQL("create schema {}").format(_ident(schema + INCOMING_SUFFIX))
                        )
                    for table in tables:
                        table_rows[table.address] = _load_table(pg, snapshot, table)
                        _secure_table(pg, table, roles, keys)
                        if table.access.kind == "government_only":
                            closed.append(table.address)
                    published_at = _load_publication_record(
                        pg, roles, snapshot_id, table_rows, time.monotonic() - started, events
                    )
                for table in tables:
                    pg.execute(
                        sql.SQL("analyze {}").format(
                            _ident(table.schema + INCOMING_SUFFIX, table.name)
                        )
                    )
                for address in closed:
                    log(f"{address}: no sector rule fits, served to the government role only")
                attempts, lock_seconds = _swap(pg, roles, policy, events, log)
            finally:
                _drop_schemas(pg, INCOMING_SUFFIX)
    finally:
        snapshot.close()
    return Publication(
        snapshot_id=snapshot_id,
        published_at=published_at,
        table_rows=table_rows,
        roles=roles.groups,
        seconds=time.monotonic() - started,
        swap_attempts=attempts,
        closed_tables=closed,
        swap_lock_seconds=lock_seconds,
        events=events,
    )
