"""Other sessions: people's session defaults, who holds the served tables, the publisher's lock."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Person:
    """A login of a BI group, with the session settings it has now."""

    name: str
    settings: dict[str, str]  # its role-wide defaults
    has_database_settings: bool  # its own settings for this database, which would win
    connection_limit: int


def people_of(pg: psycopg.Connection, roles: ServingRoles) -> list[Person]:
    """The login roles that are members of a BI group: the people who read the database. An
    administrator put in a group to try it (a superuser, a role that creates roles) is none."""
    rows = pg.execute(
        """
        select distinct on (member.rolname)
            member.rolname,
            coalesce((
                select setting.setconfig from pg_db_role_setting as setting
                where setting.setrole = member.oid and setting.setdatabase = 0
            ), '{}'),
            exists (
                select from pg_db_role_setting as setting
                inner join pg_database as db on setting.setdatabase = db.oid
                where setting.setrole = member.oid and db.datname = current_database()
            ),
            member.rolconnlimit
        from pg_auth_members as membership
        inner join pg_roles as grp on membership.roleid = grp.oid
        inner join pg_roles as member on membership.member = member.oid
        where grp.rolname = any(%s) and member.rolcanlogin
            and not member.rolsuper and not member.rolcreaterole
        order by member.rolname
        """,
        [roles.groups],
    ).fetchall()
    return [
        Person(name, dict(item.split("=", 1) for item in config), in_database, limit)
        for name, config, in_database, limit in rows
    ]


def session_defaults(policy: ServingPolicy) -> dict[str, str]:
    return {
        "default_transaction_read_only": "on",
        "statement_timeout": policy.statement_timeout,
        "idle_in_transaction_session_timeout": policy.idle_in_transaction_timeout,
    }


def needs_defaults(person: Person, policy: ServingPolicy) -> bool:
    return (
        person.has_database_settings
        or person.connection_limit != policy.connection_limit
        or any(person.settings.get(k) != v for k, v in session_defaults(policy).items())
    )


def apply_session_defaults(pg: psycopg.Connection, person: Person, policy: ServingPolicy) -> None:
    """A reader's sessions: read-only, statements and idle transactions bounded, a few
    connections at most; the person's own settings for this database (which would win) gone.
    Only what differs is written: an unchanged role is not touched."""
    role = ident(person.name)
    if person.has_database_settings:
        pg.execute(
            sql.SQL("alter role {} in database {} reset all").format(role, ident(pg.info.dbname))
        )
    for setting, value in session_defaults(policy).items():
        if person.settings.get(setting) != value:
            pg.execute(
                sql.SQL("alter role {} set {} = {}").format(
                    role, sql.SQL(setting), sql.Literal(value)
                )
            )
    if person.connection_limit != policy.connection_limit:
        pg.execute(
            sql.SQL("alter role {} connection limit {}").format(
                role, sql.Literal(policy.connection_limit)
            )
        )


def may_end_sessions(pg: psycopg.Connection) -> bool:
    """Whether the publisher's role may end other roles' sessions (pg_signal_backend)."""
    row = pg.execute(
        "select pg_has_role('pg_signal_backend', 'usage')"
        " or (select rolsuper from pg_roles where rolname = current_user)"
    ).fetchone()
    return row == (True,)


def end_session(pg: psycopg.Connection, session: Session) -> bool:
    """End a session (the caller may); False when it had ended already."""
    return pg.execute("select pg_terminate_backend(%s)", [session.pid]).fetchone() == (True,)


def reset_people(
    pg: psycopg.Connection,
    people: list[Person],
    policy: ServingPolicy,
    may_end: bool,
    events: list[str],
    log: Callable[[str], None],
) -> None:
    """Every person's session defaults where they differ, each in a transaction that waits at
    most a second for the person's role: a person holding their own role row in an open
    transaction is named and, by the policy, their sessions are ended; otherwise they are left
    for the next publication."""
    for person in (person for person in people if needs_defaults(person, policy)):
        for attempt in (1, 2):
            try:
                with pg.transaction():
                    pg.execute("set local lock_timeout = '1s'")
                    apply_session_defaults(pg, person, policy)
                break
            except (errors.LockNotAvailable, errors.InternalError_) as error:
                holders = [
                    session
                    for session, _ in sessions_in_the_way(pg, {person.name}, of_person=person.name)
                ]
                who = "; ".join(session.describe() for session in holders) or "a session"
                if attempt == 2 or not (policy.end_blocking_readers and may_end):
                    log(f"{person.name}'s defaults were not set again: {who} holds the role")
                    break
                for session in holders:
                    if end_session(pg, session):
                        event = (
                            f"ended the session {session.describe()}: it held its role in an"
                            f" open transaction ({type(error).__name__})"
                        )
                        events.append(event)
                        log(event)


# Sessions in a publication's way: those holding a served table (or a person's sessions in a
# transaction, or what a waiting pid waits for), how they are described, and how long idle.
_SESSIONS_IN_THE_WAY = """
    select
        activity.pid,
        coalesce(activity.usename, activity.backend_type),  -- autovacuum has no role
        coalesce(activity.application_name, ''),
        coalesce(activity.state, ''),
        case when activity.state like 'idle in transaction%%'
            then activity.state_change else activity.xact_start end,
        extract(epoch from clock_timestamp() - activity.state_change)
    from pg_stat_activity as activity
    where activity.pid <> pg_backend_pid() and case
        when %(waiting)s::int is not null then activity.pid = any(pg_blocking_pids(%(waiting)s))
        when %(person)s::text is not null then
            activity.usename = %(person)s and activity.xact_start is not null
        else exists (
            select from pg_locks as locks
            inner join pg_class as class on locks.relation = class.oid
            inner join pg_namespace as namespace on class.relnamespace = namespace.oid
            where locks.pid = activity.pid and locks.granted
                and namespace.nspname = any(%(schemas)s)
        )
    end
    order by activity.pid
"""


def sessions_in_the_way(
    pg: psycopg.Connection,
    readers: set[str],
    *,
    waiting: int | None = None,
    of_person: str | None = None,
) -> list[tuple[Session, float]]:
    """The sessions holding a live served table, or those the session ``waiting`` waits for,
    or a person's sessions in a transaction; each with the seconds since its state changed
    (for a session idle in a transaction: how long it has been idle). A session is a reader's
    when its role is one of ``readers`` (the people, never an administrator)."""
    rows = pg.execute(
        _SESSIONS_IN_THE_WAY,
        {"waiting": waiting, "person": of_person, "schemas": list(SWAPPED_SCHEMAS)},
    ).fetchall()
    return [
        (Session(pid, role, application, state, since, role in readers), float(idle or 0.0))
        for pid, role, application, state, since, idle in rows
    ]


@contextlib.contextmanager
def readers_ended_while_waiting(
    dsn: str,
    swap_pid: int,
    readers: set[str],
    events: list[str],
    log: Callable[[str], None],
) -> Iterator[None]:
    """While the swap's lock requests wait in the queue (so that new readers queue behind
    them instead of slipping in), end from another connection every reader they wait for."""
    stop = threading.Event()

    def watch() -> None:
        with psycopg.connect(dsn, autocommit=True, application_name=PUBLISHER_APPLICATION) as pg:
            while not stop.wait(0.1):
                for session, _ in sessions_in_the_way(pg, readers, waiting=swap_pid):
                    if session.is_reader and end_session(pg, session):
                        event = f"ended the session {session.describe()}: it kept the swap waiting"
                        events.append(event)
                        log(event)

    watcher = threading.Thread(target=watch, name="serving-swap-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join(timeout=10)


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
                        f"another publication is in progress ({_lock_holders(holder)}); gave up"
                        f" after {timeout_seconds:.0f} s"
                    ) from None
        try:
            yield
        finally:
            holder.rollback()


def _lock_holders(holder: psycopg.Connection) -> str:
    with holder.transaction():
        rows = holder.execute(
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
