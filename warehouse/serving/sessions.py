"""Other sessions: people's session defaults, who holds the served tables, the publisher's lock."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import psycopg
from psycopg import errors, sql

from warehouse.serving.model import (
    CONTROL_SCHEMA,
    PUBLISHER_APPLICATION,
    PUBLISHER_LOCK_TABLE,
    SWAPPED_SCHEMAS,
    ServingError,
    ServingPolicy,
    ServingRoles,
    Session,
    ident,
)


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
    role = ident(person)
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


def end_session(pg: psycopg.Connection, session: Session) -> str | None:
    """End a reader's session; None when the publisher may not (it needs pg_signal_backend)."""
    try:
        ended = pg.execute("select pg_terminate_backend(%s)", [session.pid]).fetchone()
    except errors.InsufficientPrivilege:
        return None
    return "ended" if ended == (True,) else "gone"


@contextlib.contextmanager
def publisher_lock(dsn: str, timeout_seconds: float) -> Iterator[None]:
    """Hold the publisher's lock for the block: a lock on a table in a schema no reader has
    any privilege on, held by a transaction of its own connection (a crashed publisher's
    connection closes and frees it). Gives up after ``timeout_seconds`` naming its holder."""
    control = ident(CONTROL_SCHEMA, PUBLISHER_LOCK_TABLE)
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
                        sql.SQL("create schema if not exists {}").format(ident(CONTROL_SCHEMA))
                    )
                    holder.execute(
                        sql.SQL("revoke all on schema {} from public").format(ident(CONTROL_SCHEMA))
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
