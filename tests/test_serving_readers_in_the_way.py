"""Readers in the swap's way, tried as BI logins with psycopg and psql against the real
PostgreSQL: a transaction left idle, a query that never ends, a role row held, a pool that
reconnects at once. Each is ended after the grace period, or named when it may not be ended
(ending turned off, an administrator, a publisher without pg_signal_backend)."""

from __future__ import annotations

import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tests.serving_support import (
    QUICK,
    ServingDatabase,
    fresh_database,
    published_database,
    small_snapshot,
)
from tests.serving_support import in_force as _in_force
from tests.serving_support import psql_client as _psql
from tests.serving_support import psql_environment as _psql_environment
from tests.serving_support import publish_quickly as _publish
from tests.serving_support import wait_for as _wait_for
from warehouse.serving import ServingError, ServingPolicy, publish_to_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_snapshot(tmp_path_factory.mktemp("snapshot") / "warehouse.duckdb")


@pytest.fixture
def database(snapshot_file: Path) -> Iterator[ServingDatabase]:
    """A serving database with one publication in force."""
    with published_database(snapshot_file) as served:
        yield served


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
