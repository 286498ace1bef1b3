"""What a BI login can do to everyone else on the serving database, tried as that login with
psycopg and with psql against the real PostgreSQL: stall a publication (an advisory lock, an
open transaction, a query that never ends), lock colleagues out (their password, their
defaults), or connect without any grant. And the administrator's side: people's logins, and
the way back for each (the next publication, the next session)."""

from __future__ import annotations

import io
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import make_conninfo

from pipelines.cli import main
from tests.serving_support import ServingDatabase, fresh_database, small_snapshot
from warehouse.serving import (
    CONTROL_SCHEMA,
    PUBLISHER_LOCK_TABLE,
    ServingError,
    ServingPolicy,
    publish_to_postgres,
    publisher_lock,
)
from warehouse.serving.users import add_user, list_users, remove_user

pytestmark = pytest.mark.postgres

PUBLISH_LOCK_OF_EARLIER_VERSIONS = "select pg_advisory_lock(hashtext('maglumat serving publish'))"
# Short patience, so that each test shows the policy in seconds.
QUICK = ServingPolicy(start_timeout_seconds=3, swap_timeout_seconds=4, reader_grace_seconds=2)


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_snapshot(tmp_path_factory.mktemp("snapshot") / "warehouse.duckdb")


@pytest.fixture
def database(snapshot_file: Path) -> Iterator[ServingDatabase]:
    """A serving database with one publication in force."""
    with fresh_database() as served:
        publish_to_postgres(snapshot_file, "first", served.dsn, served.role_prefix)
        yield served


def _psql() -> str:
    found = shutil.which("psql")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but the psql client is not installed")
        pytest.skip("the psql client is not installed on this machine")
    return found


def _psql_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _wait_for(condition: str, database: ServingDatabase, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    with database.admin() as pg:
        while pg.execute(f"select exists ({condition})").fetchone() != (True,):
            assert time.monotonic() < deadline, f"never true: {condition}"
            time.sleep(0.1)


def _publish(database: ServingDatabase, snapshot: Path, name: str, **policy: object):
    messages: list[str] = []
    publication = publish_to_postgres(
        snapshot,
        name,
        database.dsn,
        database.role_prefix,
        policy=ServingPolicy(**{**vars(QUICK), **policy}),
        log=messages.append,
    )
    return publication, messages


def _in_force(database: ServingDatabase) -> str:
    with database.admin() as pg:
        row = pg.execute("select snapshot_id from serving.publication").fetchone()
    assert row is not None
    return row[0]


# --- publications exclude each other, and only each other --------------------------------------


def test_a_readers_advisory_lock_no_longer_stalls_a_publication(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    """The lock that earlier versions took is any login's to take: held by a reader through
    psql, it does not delay the publication; the publisher's own lock is out of its reach."""
    reader = database.reader("health")
    holder = subprocess.Popen(
        [_psql(), "-X", "-d", make_conninfo(database.dsn, user=reader),
         "-c", PUBLISH_LOCK_OF_EARLIER_VERSIONS, "-c", "select pg_sleep(120)"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_psql_environment(),
    )  # fmt: skip
    try:
        _wait_for("select from pg_locks where locktype = 'advisory' and granted", database)
        started = time.monotonic()
        publication, _ = _publish(database, snapshot_file, "second")
        assert time.monotonic() - started < 30
        assert publication.swap_attempts == 1
        assert _in_force(database) == "second"
    finally:
        holder.kill()
        holder.wait()
    with database.as_reader("health") as pg:
        for attempt in (
            f"lock table {CONTROL_SCHEMA}.{PUBLISHER_LOCK_TABLE} in access share mode",
            f"select * from {CONTROL_SCHEMA}.{PUBLISHER_LOCK_TABLE}",
        ):
            with pytest.raises(errors.InsufficientPrivilege), pg.transaction():
                pg.execute(attempt)


def test_a_publication_waits_for_another_then_gives_up_naming_it(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    with publisher_lock(database.dsn, timeout_seconds=5):
        started = time.monotonic()
        with pytest.raises(ServingError) as refused:
            _publish(database, snapshot_file, "second", start_timeout_seconds=2)
        waited = time.monotonic() - started
    message = str(refused.value)
    assert message.startswith("another publication is in progress (held by pid ")
    assert "application 'maglumat publish-serving'" in message
    assert message.endswith("gave up after 2 s")
    assert 2 <= waited < 10
    assert _in_force(database) == "first"
    # The lock is free once its holder is done.
    assert _publish(database, snapshot_file, "second")[0].snapshot_id == "second"


# --- readers in the swap's way ----------------------------------------------------------------


def test_a_reader_idle_in_a_transaction_is_ended_after_the_grace_and_the_log_says_so(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    """DBeaver's manual-commit mode: a transaction that read a table and sits open."""
    reader = database.as_reader("health", application_name="DBeaver 24.1")
    reader.execute("begin")
    reader.execute("select snapshot_id from serving.publication")
    (pid,) = reader.execute("select pg_backend_pid()").fetchone() or (0,)
    started = time.monotonic()
    publication, messages = _publish(database, snapshot_file, "second")
    assert time.monotonic() - started < QUICK.reader_grace_seconds + 15
    assert publication.swap_attempts > 1
    (event,) = publication.events
    assert event.startswith(f"ended the session pid {pid} (role {database.reader('health')},")
    assert "application 'DBeaver 24.1', idle in transaction since " in event
    assert event in messages
    with pytest.raises(psycopg.OperationalError):
        reader.execute("select 1")
    reader.close()
    with database.admin() as pg:
        recorded = pg.execute(
            "select snapshot_id, events from serving.publications order by publication_id"
        ).fetchall()
    assert recorded == [("first", []), ("second", [event])]
    # The person logs in again and reads the new publication.
    with database.as_reader("health") as pg:
        assert pg.execute("select snapshot_id from serving.publication").fetchone() == ("second",)


def test_a_reader_running_a_long_query_through_psql_is_ended_after_the_grace(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    """A session turns its own timeouts off and keeps a query running in a transaction: the
    swap still does not wait past the grace period."""
    reader = database.reader("health")
    sleeper = subprocess.Popen(
        [_psql(), "-X", "-v", "ON_ERROR_STOP=1", "-d", make_conninfo(database.dsn, user=reader),
         "-c", "set statement_timeout = 0",
         "-c", "begin; select count(*) from marts.dim_dates; select pg_sleep(600); commit;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_psql_environment(),
    )  # fmt: skip
    try:
        _wait_for("select from pg_stat_activity where query like '%pg_sleep(600)%'"
                  " and state = 'active' and pid <> pg_backend_pid()", database)  # fmt: skip
        started = time.monotonic()
        publication, _ = _publish(database, snapshot_file, "second")
        assert time.monotonic() - started < QUICK.reader_grace_seconds + 15
        assert len(publication.events) == 1
        assert "active since" in publication.events[0]
        _, stderr = sleeper.communicate(timeout=30)
    finally:
        sleeper.kill()
    assert sleeper.returncode != 0
    assert "terminating connection due to administrator command" in stderr


def test_with_ending_off_the_swap_names_the_readers_and_gives_up(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    reader = database.as_reader("health", application_name="Excel")
    reader.execute("begin")
    reader.execute("select count(*) from marts.dim_dates")
    (pid,) = reader.execute("select pg_backend_pid()").fetchone() or (0,)
    try:
        with pytest.raises(ServingError) as refused:
            _publish(database, snapshot_file, "second", end_blocking_readers=False)
        message = str(refused.value)
        assert message.startswith("the swap waited 4 s for sessions holding the served tables")
        assert f"pid {pid} (role {database.reader('health')}, application 'Excel'," in message
        assert message.endswith("the previous publication stays in place")
        # The reader was left alone, and the first publication is still in force.
        assert reader.execute("select count(*) from marts.dim_dates").fetchone() == (1,)
    finally:
        reader.close()
    assert _in_force(database) == "first"
    with database.admin() as pg:
        schemas = pg.execute(
            "select count(*) from pg_namespace where nspname like '%\\_\\_incoming'"
        ).fetchone()
    assert schemas == (0,)


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


# --- one login per person ---------------------------------------------------------------------


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


def test_shared_logins_of_earlier_versions_are_disabled_on_the_next_publication(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    shared = f"{database.role_prefix}health_bi"
    with database.admin() as pg:
        pg.execute(f"create role {shared} login in role {database.role_prefix}health")
    publication, messages = _publish(database, snapshot_file, "second")
    assert publication.events == [
        f"shared login {shared} disabled: people now log in as themselves"
        " (maglumat serving add-user NAME --ministry health)"
    ]
    assert publication.events[0] in messages
    with database.admin() as pg:
        assert pg.execute(
            "select rolcanlogin from pg_roles where rolname = %s", [shared]
        ).fetchone() == (False,)
    assert shared not in {reader.name for reader in list_users(database.dsn, database.role_prefix)}
    # Disabled once: the publication after says nothing more.
    assert _publish(database, snapshot_file, "third")[0].events == []


def test_people_are_added_listed_and_removed(database: ServingDatabase) -> None:
    name = f"{database.people_prefix}aman"
    reader = add_user(database.dsn, database.role_prefix, name, "Health", "a long secret 1234")
    assert (reader.name, reader.ministry, reader.can_login) == (name, "health", True)
    session = database.as_role(name)
    listed = {r.name: r for r in list_users(database.dsn, database.role_prefix)}
    assert listed[name].sessions == 1
    assert remove_user(database.dsn, database.role_prefix, name) == 1
    with pytest.raises(psycopg.OperationalError):
        session.execute("select 1")
    session.close()
    assert name not in {r.name for r in list_users(database.dsn, database.role_prefix)}
    with pytest.raises(ServingError, match="is not a reader of the serving database"):
        remove_user(database.dsn, database.role_prefix, "postgres")


# --- the command line -------------------------------------------------------------------------


def _run(
    arguments: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(arguments)
    out, err = capsys.readouterr()
    return status, out, err


def test_the_serving_commands_as_an_administrator_uses_them(
    database: ServingDatabase,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAGLUMAT_SERVING_DSN", database.dsn)
    monkeypatch.setenv("MAGLUMAT_SERVING_ROLE_PREFIX", database.role_prefix)
    name = f"{database.people_prefix}maya"
    password = "never on a command line 7"
    status, out, err = _run(
        ["serving", "add-user", name, "--ministry", "health"], capsys, monkeypatch, password
    )
    assert (status, err) == (0, "")
    assert out.startswith(f"{name} may now log in to ")
    assert out.rstrip().endswith("reads what health reads (at most 10 connections)")
    assert password not in out
    with database.admin() as pg:
        (verifier,) = pg.execute(
            "select rolpassword from pg_authid where rolname = %s", [name]
        ).fetchone() or ("",)
    assert verifier.startswith("SCRAM-SHA-256$")

    status, out, _ = _run(["serving", "list-users"], capsys, monkeypatch)
    assert status == 0
    assert [line.split()[:2] for line in out.splitlines()] == [[name, "health"]]

    refusals = {
        ("add-user", name, "--ministry", "health"): f"user {name!r} already exists",
        ("add-user", "x" + name, "--ministry", "energie"): "--ministry 'energie': not a"
        " ministry of the serving database (known: government, health)",
        ("add-user", "Bad-Name", "--ministry", "health"): "user name 'Bad-Name': lowercase",
        ("remove-user", "nobody_here"): "'nobody_here' is not a reader",
    }
    for arguments, expected in refusals.items():
        status, out, err = _run(["serving", *arguments], capsys, monkeypatch, password)
        assert status == 1, arguments
        assert len(err.splitlines()) == 1, err
        assert err.startswith(f"maglumat serving {arguments[0]}: "), err
        assert expected in err, err
    status, _, err = _run(
        ["serving", "add-user", "y" + name, "--ministry", "health"], capsys, monkeypatch, "short"
    )
    assert status == 1
    assert "the password is too short: at least 12 characters" in err

    status, out, _ = _run(["serving", "remove-user", name], capsys, monkeypatch)
    assert status == 0
    assert out.startswith(f"{name} removed from ")


def test_two_publications_at_once_run_one_after_the_other(snapshot_file: Path) -> None:
    """Two publications at once from two threads: the second waits for the first, both end."""
    with fresh_database() as database:
        results: list[str] = []

        def publish(name: str) -> None:
            publication, _ = _publish(database, snapshot_file, name, start_timeout_seconds=120)
            results.append(publication.snapshot_id)

        threads = [threading.Thread(target=publish, args=(n,)) for n in ("one", "two")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        assert sorted(results) == ["one", "two"]
        with database.admin() as pg:
            history = pg.execute(
                "select snapshot_id from serving.publications order by publication_id"
            ).fetchall()
        assert sorted(row[0] for row in history) == ["one", "two"]
        assert _in_force(database) == history[-1][0]


# --- what a reader could still try ------------------------------------------------------------


def test_a_reader_holding_their_own_role_row_does_not_stall_the_publication(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    """An open transaction that altered the person's own role holds the role's catalog row:
    setting that person's defaults again waits a second at most, then ends the session."""
    person = database.reader("health")
    holder = database.as_role(person, application_name="role holder")
    holder.execute("set default_transaction_read_only = off")
    holder.execute("set idle_in_transaction_session_timeout = 0")
    # A default changed for good, so the publication has something to set again ...
    holder.execute(f"alter role {person} set statement_timeout = 0")
    # ... and the role's row held by an open transaction while it tries.
    holder.execute("begin")
    holder.execute(f"alter role {person} set statement_timeout = '1min'")
    try:
        started = time.monotonic()
        publication, _ = _publish(database, snapshot_file, "second")
        assert time.monotonic() - started < 30
        assert any("application 'role holder'" in event for event in publication.events)
        with pytest.raises(psycopg.OperationalError):
            holder.execute("select 1")
    finally:
        holder.close()
    with database.as_role(person) as pg:
        assert pg.execute("show statement_timeout").fetchone() == ("15min",)


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


def test_an_administrators_session_in_the_swaps_way_is_named_never_ended(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    """An administrator who put themselves in a ministry's group to see what it sees is still
    no reader: a role that creates roles (or a superuser) is named and waited for."""
    dba_role = f"{database.people_prefix}dba"
    with database.admin() as pg:
        pg.execute(f"create role {dba_role} login createrole in role {database.role_prefix}health")
    dba = database.as_role(dba_role, application_name="dba console")
    dba.execute("begin")
    dba.execute("select count(*) from marts.dim_dates")
    timer = threading.Timer(QUICK.reader_grace_seconds + 3, lambda: dba.execute("commit"))
    timer.start()
    try:
        publication, messages = _publish(database, snapshot_file, "second", swap_timeout_seconds=30)
    finally:
        timer.join()
    assert publication.events == []
    assert any("application 'dba console'" in message for message in messages)
    assert dba.execute("select 1").fetchone() == (1,)  # still connected
    dba.close()


def test_a_reader_who_reconnects_and_reads_again_cannot_starve_the_swap(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    """A connection pool: every ended session is replaced by one that reads at once. Past the
    grace period the swap's requests stay queued, so the newcomers wait behind them."""
    stop = threading.Event()
    sessions = 0

    def pool() -> None:
        nonlocal sessions
        while not stop.is_set():
            try:
                with database.as_reader("health", application_name="pool") as pg:
                    sessions += 1
                    pg.execute("begin")
                    pg.execute("select count(*) from marts.dim_dates")
                    while not stop.is_set():
                        time.sleep(0.05)
                        pg.execute("select 1")
            except psycopg.Error:
                continue

    reader = threading.Thread(target=pool)
    reader.start()
    try:
        deadline = time.monotonic() + 10
        while sessions == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        publication, _ = _publish(database, snapshot_file, "second", swap_timeout_seconds=30)
        assert time.monotonic() - started < QUICK.reader_grace_seconds + 20
    finally:
        stop.set()
        reader.join(timeout=30)
    assert publication.events
    assert _in_force(database) == "second"


def test_a_publisher_that_is_no_superuser_publishes_and_names_what_it_may_not_end(
    snapshot_file: Path,
) -> None:
    """The deployment the guide describes: the publisher owns the database and may create
    roles, nothing more. Without pg_signal_backend it names a reader in its way and waits;
    with it, it ends the reader."""
    token = secrets.token_hex(4)
    publisher = f"person{token}_publisher"
    with fresh_database() as database:
        with database.admin() as pg:
            pg.execute(f"create role {publisher} login createrole")
            pg.execute(f'alter database "{database.name}" owner to {publisher}')
        as_publisher = make_conninfo(database.dsn, user=publisher)
        try:
            publish_to_postgres(snapshot_file, "first", as_publisher, database.role_prefix)
            reader = database.as_reader("health", application_name="Excel")
            reader.execute("begin")
            reader.execute("select count(*) from marts.dim_dates")
            messages: list[str] = []
            with pytest.raises(ServingError, match="application 'Excel'"):
                publish_to_postgres(
                    snapshot_file,
                    "second",
                    as_publisher,
                    database.role_prefix,
                    policy=ServingPolicy(**{**vars(QUICK), "swap_timeout_seconds": 6}),
                    log=messages.append,
                )
            assert any("the publisher needs" in message for message in messages)
            assert reader.execute("select 1").fetchone() == (1,)  # not ended
            with database.admin() as pg:
                pg.execute(f"grant pg_signal_backend to {publisher}")
            second = publish_to_postgres(
                snapshot_file,
                "second",
                as_publisher,
                database.role_prefix,
                policy=ServingPolicy(**{**vars(QUICK), "swap_timeout_seconds": 30}),
            )
            assert any("application 'Excel'" in event for event in second.events)
            with pytest.raises(psycopg.OperationalError):
                reader.execute("select 1")
            reader.close()
        finally:
            with database.admin() as pg:
                pg.execute(f'alter database "{database.name}" owner to current_user')
                pg.execute(f"drop owned by {publisher} cascade")
                pg.execute(f"drop role {publisher}")


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
