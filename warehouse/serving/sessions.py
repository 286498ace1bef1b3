"""Other sessions: people's session defaults, who holds the served tables, the publisher's lock."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

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
    """The login roles that are members of a BI group: the people who read the database. An
    administrator put in a group to try it (a superuser, a role that creates roles) is none."""
    rows = pg.execute(
        """
        select distinct member.rolname
        from pg_auth_members as membership
        inner join pg_roles as grp on membership.roleid = grp.oid
        inner join pg_roles as member on membership.member = member.oid
        where grp.rolname = any(%s) and member.rolcanlogin
            and not member.rolsuper and not member.rolcreaterole
        order by member.rolname
        """,
        [roles.groups],
    ).fetchall()
    return [row[0] for row in rows]


def session_defaults(policy: ServingPolicy) -> dict[str, str]:
    return {
        "default_transaction_read_only": "on",
        "statement_timeout": policy.statement_timeout,
        "idle_in_transaction_session_timeout": policy.idle_in_transaction_timeout,
    }


def apply_session_defaults(pg: psycopg.Connection, person: str, policy: ServingPolicy) -> None:
    """A reader's sessions: read-only, statements and idle transactions bounded, a few
    connections at most. Set again at every publication, because a person may change their
    own, and their own settings for this database (which would win) are removed. Only what
    differs is written: an unchanged role is not touched, so a person's open transaction on
    their own role row holds nothing up."""
    role = ident(person)
    row = pg.execute(
        """
        select
            coalesce((
                select setting.setconfig from pg_db_role_setting as setting
                where setting.setrole = person.oid and setting.setdatabase = 0
            ), '{}'),
            exists (
                select from pg_db_role_setting as setting
                inner join pg_database as db on setting.setdatabase = db.oid
                where setting.setrole = person.oid and db.datname = current_database()
            ),
            person.rolconnlimit
        from pg_roles as person
        where person.rolname = %s
        """,
        [person],
    ).fetchone()
    if row is None:
        return
    current = dict(item.split("=", 1) for item in row[0])
    if row[1]:
        pg.execute(
            sql.SQL("alter role {} in database {} reset all").format(
                role, ident(_current_database(pg))
            )
        )
    for setting, value in session_defaults(policy).items():
        if current.get(setting) != value:
            pg.execute(
                sql.SQL("alter role {} set {} = {}").format(
                    role, sql.SQL(setting), sql.Literal(value)
                )
            )
    if row[2] != policy.connection_limit:
        pg.execute(
            sql.SQL("alter role {} connection limit {}").format(
                role, sql.Literal(policy.connection_limit)
            )
        )


def _current_database(pg: psycopg.Connection) -> str:
    row = pg.execute("select current_database()").fetchone()
    assert row is not None
    return str(row[0])


def reset_people(
    pg: psycopg.Connection,
    roles: ServingRoles,
    policy: ServingPolicy,
    events: list[str],
    log: Callable[[str], None],
) -> None:
    """Every person's session defaults, each in a transaction that waits at most a second for
    the person's role: a person holding their own role row in an open transaction is named
    and, by the policy, their sessions are ended; otherwise they are left for the next time."""
    for person in people_of(pg, roles):
        for attempt in (1, 2):
            try:
                with pg.transaction():
                    pg.execute("set local lock_timeout = '1s'")
                    apply_session_defaults(pg, person, policy)
                break
            except (errors.LockNotAvailable, errors.InternalError_) as error:
                holders = [
                    Session(pid, person, application, state, since, is_reader=True)
                    for pid, application, state, since in pg.execute(
                        "select pid, coalesce(application_name, ''), coalesce(state, ''),"
                        " xact_start from pg_stat_activity"
                        " where usename = %s and xact_start is not null",
                        [person],
                    ).fetchall()
                ]
                who = "; ".join(session.describe() for session in holders) or "a session"
                if attempt == 2 or not policy.end_blocking_readers:
                    log(f"{person}'s session defaults were not set again: {who} holds the role")
                    break
                for session in holders:
                    if end_session(pg, session) == "ended":
                        event = (
                            f"ended the session {session.describe()}: it held its role in an"
                            f" open transaction ({type(error).__name__})"
                        )
                        events.append(event)
                        log(event)


_BLOCKING_SESSIONS = """
    select distinct on (activity.pid)
        activity.pid,
        coalesce(activity.usename, activity.backend_type),  -- autovacuum has no role
        coalesce(activity.application_name, ''),
        coalesce(activity.state, ''),
        case when activity.state like 'idle in transaction%%'
            then activity.state_change else activity.xact_start end,
        not coalesce(reader.rolsuper or reader.rolcreaterole, true) and exists (
            select from unnest(%(groups)s::text[]) as grp(name)
            where pg_has_role(activity.usesysid, grp.name, 'member')
        ),
        extract(epoch from clock_timestamp() - activity.state_change)
    from pg_locks as locks
    inner join pg_class as class on locks.relation = class.oid
    inner join pg_namespace as namespace on class.relnamespace = namespace.oid
    inner join pg_stat_activity as activity on locks.pid = activity.pid
    left join pg_roles as reader on activity.usesysid = reader.oid
    where
        locks.granted
        and locks.pid <> pg_backend_pid()
        and namespace.nspname = any(%(schemas)s)
    order by activity.pid
"""

# Who the swap's waiting lock request waits for right now (seen from another connection).
_SWAP_BLOCKERS = """
    select
        activity.pid,
        coalesce(activity.usename, activity.backend_type),
        coalesce(activity.application_name, ''),
        coalesce(activity.state, ''),
        coalesce(activity.xact_start, activity.state_change),
        not coalesce(reader.rolsuper or reader.rolcreaterole, true) and exists (
            select from unnest(%(groups)s::text[]) as grp(name)
            where pg_has_role(activity.usesysid, grp.name, 'member')
        )
    from unnest(pg_blocking_pids(%(swap)s)) as blocker(pid)
    inner join pg_stat_activity as activity on blocker.pid = activity.pid
    left join pg_roles as reader on activity.usesysid = reader.oid
"""


@contextlib.contextmanager
def readers_ended_while_waiting(
    dsn: str,
    swap_pid: int,
    roles: ServingRoles,
    events: list[str],
    log: Callable[[str], None],
) -> Iterator[None]:
    """While the swap's lock request waits in the queue (so that new readers queue behind it
    instead of slipping in), end from another connection every BI reader it waits for."""
    stop = threading.Event()
    ended: set[int] = set()

    def watch() -> None:
        with psycopg.connect(dsn, autocommit=True, application_name=PUBLISHER_APPLICATION) as pg:
            while not stop.wait(0.1):
                rows = pg.execute(
                    _SWAP_BLOCKERS, {"groups": roles.groups, "swap": swap_pid}
                ).fetchall()
                for pid, role, application, state, since, is_reader in rows:
                    if not is_reader or pid in ended:
                        continue
                    session = Session(pid, role, application, state, since, is_reader)
                    if end_session(pg, session) is None:
                        ended.add(pid)
                        log(
                            f"cannot end {session.describe()}: the publisher needs"
                            " pg_signal_backend"
                        )
                        continue
                    ended.add(pid)
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
