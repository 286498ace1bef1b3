"""A reader's sessions, tried as that login with psycopg and psql against the real PostgreSQL:
read-only and bounded by the policy's limits, a password or defaults changed by one person
locks no colleague out, settings a person gives themselves are undone by the next
publication, and a role with no grants cannot connect."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import make_conninfo

from tests.serving_support import ServingDatabase, published_database, small_snapshot
from tests.serving_support import psql_client as _psql
from tests.serving_support import psql_environment as _psql_environment
from tests.serving_support import publish_quickly as _publish
from warehouse.serving import ServingPolicy, publish_to_postgres
from warehouse.serving.users import add_user

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_snapshot(tmp_path_factory.mktemp("snapshot") / "warehouse.duckdb")


@pytest.fixture
def database(snapshot_file: Path) -> Iterator[ServingDatabase]:
    """A serving database with one publication in force."""
    with published_database(snapshot_file) as served:
        yield served


def test_readers_sessions_are_read_only_and_bounded(database: ServingDatabase) -> None:
    with database.as_reader("health") as pg:
        assert pg.execute("show statement_timeout").fetchone() == ("15min",)
        assert pg.execute("show idle_in_transaction_session_timeout").fetchone() == ("5min",)
        assert pg.execute("show default_transaction_read_only").fetchone() == ("on",)
    with database.admin() as pg:
        limit = pg.execute(
            "select rolconnlimit from pg_roles where rolname = %s", [database.reader("health")]
        ).fetchone()
    assert limit == (ServingPolicy().connection_limit,)
    # One person cannot take every connection the server has.
    held = [database.as_reader("health") for _ in range(ServingPolicy().connection_limit)]
    try:
        with pytest.raises(psycopg.OperationalError, match="too many connections for role"):
            database.as_reader("health")
        with database.admin() as pg:
            assert pg.execute("select 1").fetchone() == (1,)
    finally:
        for connection in held:
            connection.close()


def test_a_person_changing_their_own_password_or_defaults_locks_no_colleague_out(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    person = database.reader("health")
    colleague = add_user(
        database.dsn,
        database.role_prefix,
        f"{database.people_prefix}colleague",
        "health",
        secrets.token_urlsafe(16),
    ).name

    def verifiers() -> dict[str, str]:
        with database.admin() as pg:
            rows = pg.execute(
                "select rolname, rolpassword from pg_authid where rolname = any(%s)",
                [[person, colleague]],
            ).fetchall()
        return dict(rows)

    before = verifiers()
    assert all(verifier.startswith("SCRAM-SHA-256$") for verifier in before.values())
    with database.as_role(person) as pg:
        # Read-only sessions are a default, not a barrier: the attempts below turn it off.
        pg.execute("set default_transaction_read_only = off")
        pg.execute(f"alter role {person} password 'my own new secret 42'")
        pg.execute(f"alter role {person} set statement_timeout = 0")
        for attempt in (
            f"alter role {colleague} password 'taken over'",
            f"alter role {colleague} set statement_timeout = 0",
            f"alter role {database.role_prefix}health set statement_timeout = 0",
            f"grant {database.role_prefix}government to {person}",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                pg.execute(attempt)
    middle = verifiers()
    assert middle[colleague] == before[colleague]
    assert middle[person] != before[person]
    # The same through psql, the colleague's turn: only their own password changes.
    changed = subprocess.run(
        [_psql(), "-X", "-v", "ON_ERROR_STOP=1", "-d", make_conninfo(database.dsn, user=colleague),
         "-c", "set default_transaction_read_only = off",
         "-c", f"alter role {colleague} password 'the colleague''s own 42'"],
        capture_output=True, text=True, env=_psql_environment(), timeout=60, check=False,
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    refused = subprocess.run(
        [_psql(), "-X", "-v", "ON_ERROR_STOP=1", "-d", make_conninfo(database.dsn, user=colleague),
         "-c", "set default_transaction_read_only = off",
         "-c", f"alter role {person} password 'taken over'"],
        capture_output=True, text=True, env=_psql_environment(), timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "permission denied" in refused.stderr
    after = verifiers()
    assert after[colleague] != middle[colleague]
    assert after[person] == middle[person]
    with database.as_role(colleague) as pg:  # trust authentication here: no password asked
        assert pg.execute("show statement_timeout").fetchone() == ("15min",)
    with database.as_role(person) as pg:
        assert pg.execute("show statement_timeout").fetchone() == ("0",)
    # The way back: the next publication sets every reader's defaults again.
    _publish(database, snapshot_file, "second")
    with database.as_role(person) as pg:
        assert pg.execute("show statement_timeout").fetchone() == ("15min",)


def test_a_role_with_no_grants_cannot_connect(database: ServingDatabase) -> None:
    stranger = f"{database.people_prefix}stranger"
    with database.admin() as pg:
        pg.execute(f"create role {stranger} login")
        public_connect = pg.execute(
            "select has_database_privilege('public', current_database(), 'connect')"
        ).fetchone()
    assert public_connect == (False,)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        database.as_role(stranger)
    refused = subprocess.run(
        [_psql(), "-X", "-d", make_conninfo(database.dsn, user=stranger), "-c", "select 1"],
        capture_output=True, text=True, env=_psql_environment(), timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "permission denied for database" in refused.stderr


def test_a_readers_settings_for_this_database_are_removed_by_the_next_publication(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    """Settings a person gives themselves for this database would win over their role's."""
    person = database.reader("health")
    with database.as_role(person) as pg:
        pg.execute("set default_transaction_read_only = off")
        for setting in ("statement_timeout = 0", "idle_in_transaction_session_timeout = 0",
                        "default_transaction_read_only = off"):  # fmt: skip
            pg.execute(f"alter role {person} in database {database.name} set {setting}")
    with database.as_role(person) as pg:
        assert pg.execute("show statement_timeout").fetchone() == ("0",)
    _publish(database, snapshot_file, "second")
    with database.as_role(person) as pg:
        shown = [
            pg.execute(f"show {name}").fetchone()
            for name in (
                "statement_timeout",
                "idle_in_transaction_session_timeout",
                "default_transaction_read_only",
            )
        ]
    assert shown == [("15min",), ("5min",), ("on",)]


def test_the_session_limits_follow_the_policy(
    database: ServingDatabase, snapshot_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limits a deployment sets (here through the environment, as the daily job reads
    them) are the ones every person's sessions get at the next publication."""
    from pipelines.assets.serving import policy_from_environment

    monkeypatch.setenv("MAGLUMAT_SERVING_STATEMENT_TIMEOUT", "7min")
    monkeypatch.setenv("MAGLUMAT_SERVING_IDLE_IN_TRANSACTION_TIMEOUT", "90s")
    monkeypatch.setenv("MAGLUMAT_SERVING_CONNECTION_LIMIT", "3")
    monkeypatch.setenv("MAGLUMAT_SERVING_END_BLOCKING_READERS", "off")
    policy = policy_from_environment()
    assert policy.end_blocking_readers is False
    person = database.reader("health")
    publish_to_postgres(snapshot_file, "second", database.dsn, database.role_prefix, policy=policy)
    with database.as_role(person) as pg:
        assert pg.execute("show statement_timeout").fetchone() == ("7min",)
        assert pg.execute("show idle_in_transaction_session_timeout").fetchone() == ("90s",)
    with database.admin() as pg:
        assert pg.execute(
            "select rolconnlimit from pg_roles where rolname = %s", [person]
        ).fetchone() == (3,)
    monkeypatch.setenv("MAGLUMAT_SERVING_CONNECTION_LIMIT", "three")
    refused = "MAGLUMAT_SERVING_CONNECTION_LIMIT='three': write a whole number"
    with pytest.raises(ValueError, match=refused):
        policy_from_environment()
