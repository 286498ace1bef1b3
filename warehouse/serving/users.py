"""The people who read the serving database: one login role each, a member of its ministry's
group role, which holds the grants and row policies (:mod:`warehouse.serving.access`).

A person's password never passes through a command line, an SQL statement in clear or a log:
the command reads it from the terminal (or standard input), and the server receives only its
SCRAM-SHA-256 verifier, computed here by libpq.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
from psycopg import sql

from warehouse.serving.model import (
    IDENTIFIER,
    LOGIN_SUFFIX,
    MAX_IDENTIFIER_LENGTH,
    ServingError,
    ServingPolicy,
)
from warehouse.serving.sessions import Person, apply_session_defaults, may_end_sessions

MINIMUM_PASSWORD_LENGTH = 12
READER_COMMENT = "Maglumat BI reader"


@dataclass(frozen=True)
class Reader:
    name: str
    ministry: str
    can_login: bool
    connection_limit: int
    sessions: int
    valid_until: dt.datetime | None


def _check_name(name: str, prefix: str) -> None:
    if not IDENTIFIER.match(name) or len(name) > MAX_IDENTIFIER_LENGTH:
        raise ServingError(
            f"user name {name!r}: lowercase letters, digits and _ only, starting with a letter,"
            f" at most {MAX_IDENTIFIER_LENGTH} characters (e.g. aman_orazow)"
        )
    if name.startswith(prefix) or name.startswith("pg_"):
        raise ServingError(
            f"user name {name!r}: names starting with {prefix!r} or 'pg_' are the system's own"
        )


def _groups(pg: psycopg.Connection, prefix: str) -> dict[str, str]:
    """The BI groups that exist (ministry id -> role): a publication creates them."""
    rows = pg.execute(
        "select rolname from pg_roles where starts_with(rolname, %s) and not rolcanlogin",
        [prefix],
    ).fetchall()
    names = {row[0] for row in rows}
    # The shared logins of earlier versions are disabled (NOLOGIN) but are no groups.
    return {
        name.removeprefix(prefix): name
        for name in names
        if not (name.endswith(LOGIN_SUFFIX) and name.removesuffix(LOGIN_SUFFIX) in names)
    }


def add_user(
    dsn: str,
    prefix: str,
    name: str,
    ministry: str,
    password: str,
    policy: ServingPolicy | None = None,
) -> Reader:
    """Create ``name`` as a login of ``ministry``'s group (``government`` reads everything)."""
    policy = policy or ServingPolicy()
    _check_name(name, prefix)
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise ServingError(
            f"the password is too short: at least {MINIMUM_PASSWORD_LENGTH} characters"
        )
    with psycopg.connect(dsn, autocommit=True) as pg:
        groups = _groups(pg, prefix)
        group = groups.get(ministry.lower())
        if group is None:
            known = (
                ", ".join(sorted(groups)) or "none yet: publish first (maglumat publish-serving)"
            )
            raise ServingError(
                f"--ministry {ministry!r}: not a ministry of the serving database (known: {known})"
            )
        if pg.execute("select from pg_roles where rolname = %s", [name]).fetchone() is not None:
            raise ServingError(f"user {name!r} already exists (remove-user first to replace it)")
        verifier = pg.pgconn.encrypt_password(
            password.encode(), name.encode(), b"scram-sha-256"
        ).decode()
        with pg.transaction():
            pg.execute(
                sql.SQL("create role {} login inherit password {} in role {}").format(
                    sql.Identifier(name), sql.Literal(verifier), sql.Identifier(group)
                )
            )
            pg.execute(
                sql.SQL("comment on role {} is {}").format(
                    sql.Identifier(name), sql.Literal(f"{READER_COMMENT} of {ministry.lower()}")
                )
            )
            # A new role has no settings yet: every default is written.
            apply_session_defaults(pg, Person(name, {}, False, -1), policy)
        return next(reader for reader in _readers(pg, prefix) if reader.name == name)


def remove_user(dsn: str, prefix: str, name: str) -> int:
    """Drop a reader's login, ending their sessions first; returns the sessions ended. Only a
    member of a BI group is ever dropped."""
    with psycopg.connect(dsn, autocommit=True) as pg:
        readers = _readers(pg, prefix)
        if name not in {reader.name for reader in readers}:
            known = ", ".join(reader.name for reader in readers) or "none"
            raise ServingError(
                f"{name!r} is not a reader of the serving database (readers: {known})"
            )
        sessions = [
            row[0]
            for row in pg.execute(
                "select pid from pg_stat_activity where usename = %s", [name]
            ).fetchall()
        ]
        if sessions and not may_end_sessions(pg):
            raise ServingError(
                f"{name} has {len(sessions)} open session(s), which the publisher's role may not"
                " end: grant it pg_signal_backend, or try when they have logged off; nothing was"
                " changed"
            )
        with pg.transaction():
            pg.execute("set local lock_timeout = '5s'")
            pg.execute(sql.SQL("alter role {} nologin").format(sql.Identifier(name)))
        ended = sum(
            1
            for pid in sessions
            if pg.execute("select pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        )
        pg.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))
    return ended


def list_users(dsn: str, prefix: str) -> list[Reader]:
    with psycopg.connect(dsn, autocommit=True) as pg:
        return _readers(pg, prefix)


def _readers(pg: psycopg.Connection, prefix: str) -> list[Reader]:
    rows = pg.execute(
        """
        select
            member.rolname,
            grp.rolname,
            member.rolcanlogin,
            member.rolconnlimit,
            (select count(*) from pg_stat_activity where usename = member.rolname),
            member.rolvaliduntil
        from pg_auth_members as membership
        inner join pg_roles as grp on membership.roleid = grp.oid
        inner join pg_roles as member on membership.member = member.oid
        where starts_with(grp.rolname, %s) and not grp.rolcanlogin
            and not starts_with(member.rolname, %s)
        order by grp.rolname, member.rolname
        """,
        [prefix, prefix],
    ).fetchall()
    return [
        Reader(name, group.removeprefix(prefix), can_login, limit, sessions, valid_until)
        for name, group, can_login, limit, sessions, valid_until in rows
    ]
