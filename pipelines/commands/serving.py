"""``maglumat publish-serving`` and ``maglumat serving``: the BI database and its people."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from pipelines.cli_arguments import UsageError
from pipelines.commands.home import (
    existing_home_paths,
)


def publish_serving() -> int:
    """Publish the current snapshot to the BI tools' PostgreSQL database now (what the daily
    job does after every green run when ``MAGLUMAT_SERVING_DSN`` is set)."""
    from warehouse.serving import publish_to_postgres
    from warehouse.snapshot import current_snapshot

    dsn, prefix, where = serving_database()
    snapshot = current_snapshot(existing_home_paths())
    if snapshot is None:
        raise FileNotFoundError("no snapshot has been published yet: run the pipeline first")
    from pipelines.assets.serving import policy_from_environment

    policy = policy_from_environment()
    with serving_errors("publish-serving", where):
        publication = publish_to_postgres(
            snapshot.path, snapshot.snapshot_id, dsn, prefix, policy=policy, log=print
        )
    rows = sum(publication.table_rows.values())
    print(
        f"[serving] snapshot {publication.snapshot_id} published to {where}:"
        f" {len(publication.table_rows)} tables, {rows} rows in {publication.seconds:.1f} s"
        f" (readers waited {publication.swap_lock_seconds * 1000:.0f} ms at the swap)"
    )
    print(f"[serving] groups: {', '.join(publication.groups)}")
    return 0


def serving_database() -> tuple[str, str, str]:
    """The serving database's DSN, role prefix, and a description without user or password."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    from pipelines.assets.serving import (
        SERVING_DSN_ENV,
        SERVING_ROLE_PREFIX_ENV,
        ServingDatabaseResource,
    )
    from warehouse.serving import DEFAULT_ROLE_PREFIX

    dsn = os.environ.get(SERVING_DSN_ENV)
    if not dsn:
        raise UsageError(f"set {SERVING_DSN_ENV} to the serving database's connection string")
    try:
        conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        # Not psycopg's own message: it quotes the whole string, password included.
        raise UsageError(f"{SERVING_DSN_ENV} is not a PostgreSQL connection string") from None
    prefix = os.environ.get(SERVING_ROLE_PREFIX_ENV) or DEFAULT_ROLE_PREFIX
    return dsn, prefix, ServingDatabaseResource(dsn=dsn, role_prefix=prefix).describe()


class ServingRefusedError(Exception):
    """Reported already; the command exits 1."""


@contextlib.contextmanager
def serving_errors(command: str, where: str) -> Iterator[None]:
    """The serving database's refusals as one line each, naming the database and the cause."""
    import psycopg

    from warehouse.serving import ServingError

    try:
        yield
    except psycopg.OperationalError as error:
        # The server's own reason (no such database, a wrong password, refused): psycopg's
        # message names host, port and user, never the password.
        cause = " ".join(str(error).split())
        raise ConnectionError(f"cannot reach the serving database {where}: {cause}") from error
    except psycopg.Error as error:
        cause = (str(error).strip().splitlines() or [type(error).__name__])[0]
        hint = ""
        if isinstance(error, psycopg.errors.InsufficientPrivilege):
            hint = " (the publisher needs CREATEROLE and to own the serving schemas)"
        elif isinstance(error, psycopg.errors.ReadOnlySqlTransaction):
            hint = " (the connection is read-only: a standby, or default_transaction_read_only)"
        print(f"maglumat {command}: {where}: {cause}{hint}", file=sys.stderr)
        raise ServingRefusedError from error
    except ServingError as error:
        print(f"maglumat {command}: {error}", file=sys.stderr)
        raise ServingRefusedError from error


def read_password(name: str) -> str:
    """A new password from the terminal (asked twice, never echoed) or the first line of
    standard input; never from the command line, where other users and logs see it."""
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            raise UsageError("the two passwords differ; nothing was changed")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def serving_users(command: str, name: str | None, ministry: str | None) -> int:
    """``maglumat serving add-user|remove-user|list-users``: the people who read the BI
    database, each with a login of their own in their ministry's group."""
    from pipelines.assets.serving import policy_from_environment
    from warehouse.serving.users import add_user, list_users, remove_user

    dsn, prefix, where = serving_database()
    with serving_errors(f"serving {command}", where):
        if command == "add-user":
            assert name is not None
            assert ministry is not None
            password = read_password(name)
            reader = add_user(dsn, prefix, name, ministry, password, policy_from_environment())
            print(
                f"{reader.name} may now log in to {where} and reads what {reader.ministry}"
                f" reads (at most {reader.connection_limit} connections)"
            )
        elif command == "remove-user":
            assert name is not None
            ended = remove_user(dsn, prefix, name)
            print(f"{name} removed from {where}; sessions ended: {ended}")
        else:
            readers = list_users(dsn, prefix)
            if not readers:
                print(f"no readers in {where} yet: maglumat serving add-user NAME --ministry ID")
            for reader in readers:
                state = "" if reader.can_login else "  (cannot log in)"
                print(
                    f"{reader.name:<24} {reader.ministry:<14} sessions {reader.sessions}"
                    f" of {reader.connection_limit}{state}"
                )
    return 0
