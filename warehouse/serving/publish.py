"""A publication: load into incoming schemas, secure, record, and swap in at once."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import psycopg
import pyarrow.csv as pacsv
from psycopg import errors, sql

from warehouse.duck import read_only_connection
from warehouse.serving.access import (
    read_ministries,
    read_row_keys,
    secure_table,
    served_tables,
)
from warehouse.serving.column_types import (
    copy_expression,
)
from warehouse.serving.model import (
    COPY_BATCH_ROWS,
    DEFAULT_ROLE_PREFIX,
    INCOMING_SUFFIX,
    PUBLISHER_APPLICATION,
    RETIRED_SUFFIX,
    SERVING_SCHEMA,
    SWAPPED_SCHEMAS,
    Publication,
    ServedTable,
    ServingPolicy,
    ServingRoles,
    ident,
)
from warehouse.serving.sessions import (
    may_end_sessions,
    people_of,
    publisher_lock,
    reset_people,
)
from warehouse.serving.swap import Readers, drop_schemas, swap_in


def load_publication_record(
    pg: psycopg.Connection,
    roles: ServingRoles,
    snapshot_id: str,
    table_rows: dict[str, int],
    load_seconds: float,
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
        ).format(history=ident(incoming, "publications"))
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
        columns = sql.SQL(", ").join(ident(column) for column in kept)
        pg.execute(
            sql.SQL("insert into {} ({}) select {} from serving.publications").format(
                ident(incoming, "publications"), columns, columns
            )
        )
    row = pg.execute(
        sql.SQL(
            """
            insert into {history}
            select coalesce(max(publication_id), 0) + 1, %s, clock_timestamp(), %s, %s, %s, %s
            from {history}
            returning published_at
            """
        ).format(history=ident(incoming, "publications")),
        [
            snapshot_id,
            len(table_rows),
            sum(table_rows.values()),
            json.dumps(table_rows, sort_keys=True),
            load_seconds,
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
        ).format(current=ident(incoming, "publication"), history=ident(incoming, "publications"))
    )
    everyone = sql.SQL(", ").join(ident(g) for g in roles.groups)
    pg.execute(sql.SQL("grant select on {} to {}").format(ident(incoming, "publication"), everyone))
    pg.execute(
        sql.SQL("grant select on {} to {}").format(
            ident(incoming, "publications"), ident(roles.government)
        )
    )
    return row[0]


def ensure_roles(pg: psycopg.Connection, roles: ServingRoles) -> list[str]:
    """Group roles, created when missing; the shared logins of earlier versions disabled;
    CONNECT for the groups alone. Returns what it changed that an administrator should hear
    of. (People's session defaults are set again by ``reset_people``, a person at a time.)"""
    events: list[str] = []
    can_login = dict(pg.execute("select rolname, rolcanlogin from pg_roles").fetchall())
    for group in roles.groups:
        if group not in can_login:
            pg.execute(sql.SQL("create role {} nologin").format(ident(group)))
        shared = roles.shared_login(group)
        if can_login.get(shared):
            # One login per ministry let a colleague's `alter role` lock everyone out.
            try:
                with pg.transaction():  # a savepoint: its own session may hold the role row
                    pg.execute("set local lock_timeout = '1s'")
                    pg.execute(sql.SQL("alter role {} nologin").format(ident(shared)))
            except (errors.LockNotAvailable, errors.InternalError_):
                events.append(
                    f"shared login {shared} not disabled yet: a session of it holds the role"
                    " in an open transaction; the next publication tries again"
                )
                continue
            events.append(
                f"shared login {shared} disabled: people now log in as themselves"
                f" (maglumat serving add-user NAME --ministry {group.removeprefix(roles.prefix)})"
            )
    database = ident(pg.info.dbname)
    # The serving database is the BI tools' alone: nobody but its owner creates anything in it,
    # and only the BI groups connect (a connection is enough to take locks and advisory locks).
    pg.execute(
        sql.SQL("revoke connect, create, temporary on database {} from public").format(database)
    )
    pg.execute("revoke create on schema public from public")
    pg.execute(
        sql.SQL("grant connect on database {} to {}").format(
            database, sql.SQL(", ").join(ident(g) for g in roles.groups)
        )
    )
    return events


def copy_table(
    pg: psycopg.Connection,
    snapshot: duckdb.DuckDBPyConnection,
    table: ServedTable,
    target: sql.Composable,
    where: str = "true",
) -> int:
    """Create ``target`` with the table's PostgreSQL columns and COPY the snapshot's rows
    (those matching ``where``) into it as CSV from Arrow batches (no row passes through Python
    objects); returns the rows written."""
    pg.execute(
        sql.SQL("create table {} ({})").format(
            target,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(ident(c.name), sql.SQL(c.postgres_type))
                for c in table.columns
            ),
        )
    )
    columns = ", ".join(copy_expression(c) for c in table.columns)
    # Names are checked plain identifiers; ``where`` is the caller's own SQL.
    query = f'select {columns} from "{table.schema}"."{table.name}" where {where}'  # noqa: S608
    written = 0
    options = pacsv.WriteOptions(include_header=False)
    with pg.cursor().copy(sql.SQL("copy {} from stdin (format csv)").format(target)) as copy:
        for batch in snapshot.execute(query).to_arrow_reader(COPY_BATCH_ROWS):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, options)
            copy.write(buffer.getbuffer())
            written += batch.num_rows
    return written


def load_table(
    pg: psycopg.Connection, snapshot: duckdb.DuckDBPyConnection, table: ServedTable
) -> int:
    """The incoming table with the snapshot's rows and dbt's descriptions as comments."""
    target = ident(table.schema + INCOMING_SUFFIX, table.name)
    written = copy_table(pg, snapshot, table, target)
    if table.comment:
        pg.execute(sql.SQL("comment on table {} is {}").format(target, sql.Literal(table.comment)))
    for column in table.columns:
        if column.comment:
            pg.execute(
                sql.SQL("comment on column {} is {}").format(
                    ident(table.schema + INCOMING_SUFFIX, table.name, column.name),
                    sql.Literal(column.comment),
                )
            )
    return written


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
        tables = served_tables(snapshot)
        keys = read_row_keys(snapshot)
        with (
            publisher_lock(dsn, policy.start_timeout_seconds),
            psycopg.connect(dsn, autocommit=True, application_name=PUBLISHER_APPLICATION) as pg,
        ):
            # The server's or the publisher role's own limits are not the readers' business.
            pg.execute("set statement_timeout = 0")
            pg.execute("set idle_in_transaction_session_timeout = 0")
            with pg.transaction():
                events = ensure_roles(pg, roles)
            for event in events:
                log(event)
            people = people_of(pg, roles)
            may_end = may_end_sessions(pg)
            reset_people(pg, people, policy, may_end, events, log)
            table_rows: dict[str, int] = {}
            closed: list[str] = []
            try:
                with pg.transaction():
                    drop_schemas(pg, INCOMING_SUFFIX)
                    drop_schemas(pg, RETIRED_SUFFIX)
                    for schema in SWAPPED_SCHEMAS:
                        pg.execute(
                            sql.SQL("create schema {}").format(ident(schema + INCOMING_SUFFIX))
                        )
                    for table in tables:
                        table_rows[table.address] = load_table(pg, snapshot, table)
                        secure_table(pg, table, roles, keys)
                        if table.access.kind == "government_only":
                            closed.append(table.address)
                    published_at = load_publication_record(
                        pg, roles, snapshot_id, table_rows, time.monotonic() - started
                    )
                for table in tables:
                    pg.execute(
                        sql.SQL("analyze {}").format(
                            ident(table.schema + INCOMING_SUFFIX, table.name)
                        )
                    )
                for address in closed:
                    log(f"{address}: no sector rule fits, served to the government role only")
                readers = {person.name for person in people}
                attempts, lock_seconds = swap_in(
                    pg, dsn, roles, Readers(readers, may_end), policy, events, log
                )
            finally:
                try:
                    drop_schemas(pg, INCOMING_SUFFIX)
                except psycopg.Error as cleanup:  # the first error is the one to report
                    log(f"the incoming schemas stay until the next publication: {cleanup}")
    finally:
        snapshot.close()
    return Publication(
        snapshot_id=snapshot_id,
        published_at=published_at,
        table_rows=table_rows,
        groups=roles.groups,
        seconds=time.monotonic() - started,
        swap_attempts=attempts,
        closed_tables=closed,
        swap_lock_seconds=lock_seconds,
        events=events,
    )
