"""The swap: the incoming schemas put in place of the live ones in one transaction, and what
it does about the sessions in its way (names them; ends a BI reader's that keeps it waiting)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import errors, sql

from warehouse.serving.model import (
    INCOMING_SUFFIX,
    RETIRED_SUFFIX,
    SERVING_SCHEMA,
    SWAP_LOCK_TIMEOUT,
    SWAPPED_SCHEMAS,
    ServingError,
    ServingPolicy,
    ServingRoles,
    Session,
    ident,
)
from warehouse.serving.sessions import (
    end_session,
    readers_ended_while_waiting,
    sessions_in_the_way,
)


@dataclass(frozen=True)
class Readers:
    """The people whose sessions a publication may end, and whether its role may end any."""

    names: set[str]
    may_end: bool

    def ended_by(self, policy: ServingPolicy) -> bool:
        return policy.end_blocking_readers and self.may_end


def drop_schemas(pg: psycopg.Connection, suffix: str) -> None:
    for schema in SWAPPED_SCHEMAS:
        pg.execute(sql.SQL("drop schema if exists {} cascade").format(ident(schema + suffix)))


def swap_in(
    pg: psycopg.Connection,
    dsn: str,
    roles: ServingRoles,
    readers: Readers,
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
    long) has its session ended, when the policy says so. Past the grace period the swap no
    longer gives way: its lock requests stay queued, so readers arriving since queue behind
    them, and the readers it waits for are ended from another connection as they are found.
    """
    started = time.monotonic()
    deadline = started + policy.swap_timeout_seconds
    attempt = 0
    everyone = sql.SQL(", ").join(ident(g) for g in roles.groups)
    named: set[int] = set()
    swap_pid = pg.info.backend_pid
    while True:
        attempt += 1
        waited = time.monotonic() - started
        queued = readers.ended_by(policy) and waited >= policy.reader_grace_seconds
        lock_timeout = SWAP_LOCK_TIMEOUT
        watching: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
        if queued:
            remaining = max(deadline - time.monotonic(), 1.0)
            lock_timeout = f"{int(min(remaining, max(policy.reader_grace_seconds, 5.0)) * 1000)}ms"
            watching = readers_ended_while_waiting(dsn, swap_pid, readers.names, events, log)
        try:
            with watching, pg.transaction():
                pg.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(lock_timeout)))
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
                            ident(schema, name)
                        )
                    )
                if events:
                    pg.execute(
                        sql.SQL(
                            "update {} set events = %s"
                            " where publication_id = (select max(publication_id) from {})"
                        ).format(
                            ident(SERVING_SCHEMA + INCOMING_SUFFIX, "publications"),
                            ident(SERVING_SCHEMA + INCOMING_SUFFIX, "publications"),
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
                                ident(schema), ident(schema + RETIRED_SUFFIX)
                            )
                        )
                    pg.execute(
                        sql.SQL("alter schema {} rename to {}").format(
                            ident(schema + INCOMING_SUFFIX), ident(schema)
                        )
                    )
                    pg.execute(
                        sql.SQL("grant usage on schema {} to {}").format(ident(schema), everyone)
                    )
                drop_schemas(pg, RETIRED_SUFFIX)
            return attempt, time.monotonic() - locking
        except (errors.LockNotAvailable, errors.DeadlockDetected) as error:
            waited = time.monotonic() - started
            blockers = answer_blockers(pg, readers, policy, waited, named, events, log)
            if time.monotonic() > deadline:
                who = "; ".join(session.describe() for session in blockers) or "no one now"
                raise ServingError(
                    f"the swap waited {policy.swap_timeout_seconds:.0f} s for sessions holding"
                    f" the served tables ({who}); the previous publication stays in place"
                ) from error
            time.sleep(min(0.2 * attempt, 2.0))


def answer_blockers(
    pg: psycopg.Connection,
    readers: Readers,
    policy: ServingPolicy,
    waited: float,
    named: set[int],
    events: list[str],
    log: Callable[[str], None],
) -> list[Session]:
    """Name every session holding the served tables once; end a reader's that kept the swap
    waiting past the grace period, or that has sat idle in a transaction that long."""
    blockers = sessions_in_the_way(pg, readers.names)
    for session, idle_seconds in blockers:
        overdue = waited >= policy.reader_grace_seconds or (
            session.state.startswith("idle in transaction")
            and idle_seconds >= policy.reader_grace_seconds
        )
        if session.is_reader and overdue and readers.ended_by(policy):
            if end_session(pg, session):
                event = (
                    f"ended the session {session.describe()}: it kept the swap waiting"
                    f" {waited:.0f} s (grace {policy.reader_grace_seconds:.0f} s)"
                )
                events.append(event)
                log(event)
        elif session.pid not in named:
            named.add(session.pid)
            why = "" if readers.may_end or not session.is_reader else (
                " (the publisher needs pg_signal_backend to end a reader's session)"
            )  # fmt: skip
            log(f"the swap waits for {session.describe()}{why}")
    return [session for session, _ in blockers]
