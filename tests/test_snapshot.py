"""Publishing snapshots: atomic, never blocked by readers, read-only for them."""

import duckdb
import pytest

from maglumat.settings import MaglumatPaths
from warehouse.raw import ensure_audit_schema
from warehouse.snapshot import current_snapshot, list_snapshots, open_current, prune, publish


def _write_warehouse(paths: MaglumatPaths, value: int) -> None:
    connection = duckdb.connect(str(paths.warehouse))
    try:
        ensure_audit_schema(connection)
        connection.execute("create schema if not exists marts")
        connection.execute("create or replace table marts.answer as select ? as value", [value])
        connection.execute(
            "create or replace view marts.answer_view as select value from marts.answer"
        )
    finally:
        connection.close()


def test_a_reader_keeps_its_snapshot_and_never_blocks_a_publish(
    maglumat_home: MaglumatPaths,
) -> None:
    _write_warehouse(maglumat_home, 1)
    first = publish(maglumat_home)
    reader = open_current(maglumat_home)
    assert reader.execute("select value from marts.answer_view").fetchone() == (1,)

    _write_warehouse(maglumat_home, 2)  # the pipeline writes while the reader is open
    second = publish(maglumat_home)

    assert reader.execute("select value from marts.answer").fetchone() == (1,)
    reader.close()
    assert second.snapshot_id > first.snapshot_id
    current = current_snapshot(maglumat_home)
    assert current is not None
    assert current.snapshot_id == second.snapshot_id
    with open_current(maglumat_home) as fresh:
        assert fresh.execute("select value from marts.answer_view").fetchone() == (2,)
    assert list_snapshots(maglumat_home) == [first.snapshot_id, second.snapshot_id]


def test_snapshot_connections_cannot_write_or_reach_files(maglumat_home: MaglumatPaths) -> None:
    _write_warehouse(maglumat_home, 1)
    publish(maglumat_home)
    connection = open_current(maglumat_home)
    with pytest.raises(duckdb.Error):
        connection.execute("create table marts.mine as select 1")
    with pytest.raises(duckdb.Error):
        connection.execute("select * from read_csv('/etc/passwd')")
    with pytest.raises(duckdb.Error):
        connection.execute("set enable_external_access = true")
    connection.close()


def test_old_snapshots_are_pruned_but_never_the_current_one(maglumat_home: MaglumatPaths) -> None:
    _write_warehouse(maglumat_home, 1)
    old = publish(maglumat_home)
    current = publish(maglumat_home)
    fake_old_id = "20200101T000000000000Z"  # published long before the retention window
    (maglumat_home.snapshots / old.snapshot_id).rename(maglumat_home.snapshots / fake_old_id)

    removed = prune(maglumat_home, retention_days=30, keep=current.snapshot_id)

    assert removed == [fake_old_id]
    assert list_snapshots(maglumat_home) == [current.snapshot_id]
    assert prune(maglumat_home, retention_days=0, keep=current.snapshot_id) == []


_CRASHING_PUBLISH = """
import os, signal, sys
from maglumat.settings import MaglumatPaths
from warehouse import snapshot

def crash(*args, **kwargs):  # the process dies after the copy, before it is renamed into place
    os.kill(os.getpid(), signal.SIGKILL)

snapshot.write_docs = crash
snapshot.publish(MaglumatPaths.from_env(), retention_days=30)
"""


def test_a_publication_killed_midway_leaves_readers_the_last_snapshot_and_no_debris(
    maglumat_home: MaglumatPaths,
) -> None:
    import os
    import signal
    import subprocess
    import sys

    _write_warehouse(maglumat_home, 1)
    first = publish(maglumat_home, retention_days=30)
    _write_warehouse(maglumat_home, 2)
    crashed = subprocess.run(
        [sys.executable, "-c", _CRASHING_PUBLISH],
        env={**os.environ, "MAGLUMAT_HOME": str(maglumat_home.home)},
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL
    debris = [
        child.name for child in maglumat_home.snapshots.iterdir() if child.name.endswith(".tmp")
    ]
    assert len(debris) == 1  # the partial copy the crash left
    current = current_snapshot(maglumat_home)
    assert current is not None
    assert current.snapshot_id == first.snapshot_id  # readers never saw the partial one
    assert list_snapshots(maglumat_home) == [first.snapshot_id]

    second = publish(maglumat_home, retention_days=30)
    assert not [child for child in maglumat_home.snapshots.iterdir() if child.name.endswith(".tmp")]
    assert list_snapshots(maglumat_home) == [first.snapshot_id, second.snapshot_id]
    connection = open_current(maglumat_home)
    try:
        assert connection.execute("select value from marts.answer").fetchone() == (2,)
    finally:
        connection.close()


_HOLDING_READER = """
import sys, duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)  # someone peeks at the pipeline's file
print("open", flush=True)
sys.stdin.readline()  # until the test lets go
"""


def test_a_reader_of_the_pipelines_file_makes_writers_wait_then_fail_naming_it(
    maglumat_home: MaglumatPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    from warehouse.duck import WAIT_ENV, WarehouseBusyError, write_connection

    _write_warehouse(maglumat_home, 1)
    reader = subprocess.Popen(
        [sys.executable, "-c", _HOLDING_READER, str(maglumat_home.warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "open"
        monkeypatch.setenv(WAIT_ENV, "0.5")
        with pytest.raises(WarehouseBusyError) as busy, write_connection(maglumat_home.warehouse):
            pass
        message = str(busy.value)
        assert f"(PID {reader.pid})" in message
        assert "snapshots/current/warehouse.duckdb" in message
        assert "readers must open the published snapshot" in message
    finally:
        assert reader.stdin is not None
        reader.stdin.close()
        reader.wait(timeout=60)
    # Once the reader has gone, the writer gets the file.
    with write_connection(maglumat_home.warehouse) as connection:
        assert connection.execute("select value from marts.answer").fetchone() == (1,)
