"""Publishing snapshots: atomic, never blocked by readers, read-only for them."""

import duckdb
import pytest

from pipelines.settings import MaglumatPaths
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
