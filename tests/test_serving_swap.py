"""A publication replaces the one in force atomically: readers of the all-sector publication
see one version or the other, never a mix, and nothing is left behind. Publications exclude
each other, and only each other: a second waits for the first or gives up naming it, and no
reader's lock stands in for the publisher's."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import make_conninfo

from maglumat.settings import MaglumatPaths
from tests.serving_support import (
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
from warehouse.serving import (
    CONTROL_SCHEMA,
    PUBLISHER_LOCK_TABLE,
    Publication,
    ServingError,
    publish_to_postgres,
    publisher_lock,
)
from warehouse.snapshot import Snapshot, current_snapshot

pytestmark = pytest.mark.postgres

PUBLISH_LOCK_OF_EARLIER_VERSIONS = "select pg_advisory_lock(hashtext('maglumat serving publish'))"


@pytest.fixture(scope="module")
def serving_db() -> Iterator[ServingDatabase]:
    with fresh_database() as database:
        yield database


@pytest.fixture(scope="module")
def snapshot(all_sectors: MaglumatPaths) -> Snapshot:
    published = current_snapshot(all_sectors)
    assert published is not None
    return published


@pytest.fixture(scope="module")
def publication(serving_db: ServingDatabase, snapshot: Snapshot) -> Publication:
    return publish_to_postgres(
        snapshot.path, snapshot.snapshot_id, serving_db.dsn, serving_db.role_prefix
    )


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_snapshot(tmp_path_factory.mktemp("snapshot") / "warehouse.duckdb")


@pytest.fixture
def database(snapshot_file: Path) -> Iterator[ServingDatabase]:
    """A serving database with one publication in force."""
    with published_database(snapshot_file) as served:
        yield served


# --- swapping -------------------------------------------------------------------------------

WATCHED = (
    "indicators.fct_indicator_values",
    "marts.fct_campaign_daily_progress",
    "marts.dim_enterprises",
)


def _counts(pg: psycopg.Connection) -> tuple[int, ...]:
    return tuple(
        row[0]
        for table in WATCHED
        for row in [pg.execute(f"select count(*) from {table}").fetchone()]
        if row is not None
    )


def _pinned_read(pg: psycopg.Connection) -> tuple[str, tuple[int, ...]]:
    """One reader's transaction: which snapshot, and the watched tables' counts in it."""
    with pg.transaction():
        row = pg.execute("select snapshot_id from serving.publication").fetchone()
        assert row is not None
        return row[0], _counts(pg)


@pytest.mark.slow
def test_a_second_publish_swaps_atomically_under_readers_and_leaves_nothing_behind(
    publication: Publication, serving_db: ServingDatabase, snapshot: Snapshot, tmp_path: Path
) -> None:
    # A second snapshot whose watched tables differ from the first.
    changed = tmp_path / "warehouse.duckdb"
    shutil.copyfile(snapshot.path, changed)
    changed.chmod(0o644)
    with duckdb.connect(str(changed)) as writer:
        writer.execute("delete from indicators.fct_indicator_values where period_type = 'day'")
        writer.execute(
            "delete from marts.fct_campaign_daily_progress where report_date < '2023-09-01'"
        )
        writer.execute("delete from marts.dim_enterprises where sector = 'transport'")
        second_counts = tuple(
            writer.execute(f"select count(*) from {table}").fetchone()[0] for table in WATCHED
        )
    second_id = f"{snapshot.snapshot_id}-second"
    with serving_db.as_reader("government") as pg:
        first_id, first_counts = _pinned_read(pg)
    assert first_id == publication.snapshot_id
    assert first_counts != second_counts
    expected = {first_id: first_counts, second_id: second_counts}

    observed: list[tuple[str, tuple[int, ...]]] = []
    stop = threading.Event()

    def keep_reading() -> None:
        with serving_db.as_reader("government") as pg:
            pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            while not stop.is_set():
                observed.append(_pinned_read(pg))

    swap_waits = threading.Event()
    outcome: dict[str, Publication | BaseException] = {}

    def publish_second() -> None:
        try:
            outcome["publication"] = publish_to_postgres(
                changed,
                second_id,
                serving_db.dsn,
                serving_db.role_prefix,
                log=lambda message: swap_waits.set() if "waits" in message else None,
            )
        except BaseException as error:  # reported by the test thread
            outcome["error"] = error

    reader = threading.Thread(target=keep_reading)
    publisher = threading.Thread(target=publish_second)
    held = serving_db.as_reader("government")
    held.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        reader.start()
        with held.transaction():
            # A long transaction that has read the first version: the swap must wait for it.
            row = held.execute("select snapshot_id from serving.publication").fetchone()
            assert row == (first_id,)
            assert _counts(held) == first_counts
            publisher.start()
            assert swap_waits.wait(timeout=120), outcome
            assert _counts(held) == first_counts
            assert held.execute("select snapshot_id from serving.publication").fetchone() == row
        publisher.join(timeout=300)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(i == second_id for i, _ in observed):
            time.sleep(0.1)
    finally:
        stop.set()
        reader.join(timeout=60)
        held.close()
    assert "error" not in outcome, outcome.get("error")
    second = outcome["publication"]
    assert isinstance(second, Publication)
    assert second.swap_attempts > 1

    assert len(observed) > 3
    for snapshot_id, counts in observed:
        assert counts == expected[snapshot_id], (snapshot_id, counts)
    assert {snapshot_id for snapshot_id, _ in observed} == {first_id, second_id}

    # Publishing again leaves only the live schemas, and every publication is recorded.
    third = publish_to_postgres(
        snapshot.path, snapshot.snapshot_id, serving_db.dsn, serving_db.role_prefix
    )
    with serving_db.admin() as pg:
        schemas = {
            row[0]
            for row in pg.execute(
                "select nspname from pg_namespace"
                " where nspname not like 'pg\\_%' and nspname <> 'information_schema'"
            ).fetchall()
        }
        assert schemas == {"public", "serving", "marts", "indicators", "maglumat_control"}
        history = pg.execute(
            "select snapshot_id from serving.publications order by publication_id"
        ).fetchall()
        assert [r[0] for r in history][-2:] == [second_id, third.snapshot_id]
        assert _counts(pg) == first_counts


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
