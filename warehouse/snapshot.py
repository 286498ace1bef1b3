"""Publish a read-only snapshot of the warehouse for readers (economists, BI, reports).

Layout::

    <MAGLUMAT_HOME>/snapshots/<snapshot_id>/warehouse.duckdb   # read-only copy
    <MAGLUMAT_HOME>/snapshots/<snapshot_id>/snapshot.json      # what it contains
    <MAGLUMAT_HOME>/snapshots/current -> <snapshot_id>         # swapped atomically

The copy is taken under the writer lock after a checkpoint, written under a temporary name and
renamed into place; then the ``current`` link is replaced in one rename. One publication runs
at a time (``snapshots/publish.lock``), and each starts by removing what a crashed one left: a
temporary ``.<id>.tmp`` folder or a ``.current.<id>`` link never swapped in. A reader that opened an
older snapshot keeps reading it undisturbed, and never blocks the next publish. The file keeps
the name ``warehouse.duckdb`` so that views, which name their catalogue, resolve in the copy.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from maglumat import clock
from maglumat.settings import DBT_PROJECT_DIR, WAREHOUSE_FILE_NAME, MaglumatPaths
from warehouse.docs_catalog import write_docs
from warehouse.duck import connection_under_lock, read_only_connection, writer_lock

CURRENT = "current"
PUBLISH_LOCK = "publish"  # snapshots/publish.lock: one publication at a time
SNAPSHOT_ID_FORMAT = "%Y%m%dT%H%M%S%fZ"
# The dbt project's descriptions, for the snapshot's ``docs`` schema (see docs_catalog.py).
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


class SnapshotNotFoundError(FileNotFoundError):
    """No published snapshot answers the request (none yet, or pruned by retention)."""


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    path: Path
    metadata: dict[str, Any]


def _contents(connection: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What the snapshot holds: batches by status, and how far each source's data reaches."""
    batches = connection.execute(
        """
        select system, table_name, status, count(*) as batches,
               sum(extracted_rows), sum(loaded_rows), sum(quarantined_rows), sum(held_rows),
               max(cursor_to), max(extracted_at)
        from audit.batches
        group by all
        order by all
        """
    ).fetchall()
    held = connection.execute(
        "select batch_id, system, table_name, gate_summary from audit.batches"
        " where status = 'held' order by batch_id"
    ).fetchall()
    return {
        "sources": [
            {
                "system": row[0],
                "table": row[1],
                "status": row[2],
                "batches": row[3],
                "extracted_rows": int(row[4]),
                "loaded_rows": int(row[5]),
                "quarantined_rows": int(row[6]),
                "held_rows": int(row[7]),
                "data_through": row[8],
                "last_extracted_at": row[9].isoformat() if row[9] else None,
            }
            for row in batches
        ],
        "held_batches": [
            {"batch_id": row[0], "system": row[1], "table": row[2], "reason": row[3]}
            for row in held
        ],
        "batch_ids": [
            row[0] for row in connection.execute("select batch_id from audit.batches").fetchall()
        ],
    }


def publish(
    paths: MaglumatPaths,
    retention_days: int = 30,
    run_id: str | None = None,
    deliveries: list[dict[str, Any]] | None = None,
    dbt_manifest: Path | None = DBT_MANIFEST,
) -> Snapshot:
    """Copy the warehouse to a new read-only snapshot and make it the current one.

    ``deliveries`` (each system's freshness at publishing time) is recorded in snapshot.json so
    that every reader can tell which systems are late. The copy gains a ``docs`` schema (tables
    and columns with their dbt descriptions, from ``dbt_manifest`` and the warehouse's comments)
    while it is still private and writable.
    """
    paths.snapshots.mkdir(parents=True, exist_ok=True)
    with writer_lock(paths.snapshots / PUBLISH_LOCK):
        remove_debris(paths)
        return _publish(paths, retention_days, run_id, deliveries, dbt_manifest)


def remove_debris(paths: MaglumatPaths) -> list[str]:
    """Remove what an interrupted publication left (call under the publish lock)."""
    removed = []
    for child in sorted(paths.snapshots.iterdir()):
        if child.name.startswith(f".{CURRENT}.") and child.is_symlink():
            child.unlink()
        elif child.name.startswith(".") and child.name.endswith(".tmp") and child.is_dir():
            for item in child.iterdir():
                item.chmod(0o644)
            shutil.rmtree(child)
        else:
            continue
        removed.append(child.name)
    return removed


def _publish(
    paths: MaglumatPaths,
    retention_days: int,
    run_id: str | None,
    deliveries: list[dict[str, Any]] | None,
    dbt_manifest: Path | None,
) -> Snapshot:
    published_at = clock.now()
    snapshot_id = published_at.strftime(SNAPSHOT_ID_FORMAT)
    staging = paths.snapshots / f".{snapshot_id}.tmp"
    staging.mkdir()
    with writer_lock(paths.warehouse):
        with connection_under_lock(paths.warehouse) as connection:
            connection.execute("checkpoint")
            contents = _contents(connection)
        shutil.copyfile(paths.warehouse, staging / WAREHOUSE_FILE_NAME)
    copy = duckdb.connect(str(staging / WAREHOUSE_FILE_NAME))
    try:
        write_docs(copy, dbt_manifest)
        copy.execute("checkpoint")
    finally:
        copy.close()
    metadata = {
        "snapshot_id": snapshot_id,
        "published_at": published_at.isoformat(),
        "run_id": run_id,
        "deliveries": deliveries or [],
        "late_systems": [d["system"] for d in deliveries or [] if d.get("is_late")],
        **contents,
    }
    (staging / "snapshot.json").write_text(
        json.dumps(metadata, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    for child in staging.iterdir():
        child.chmod(0o444)
    final = paths.snapshots / snapshot_id
    staging.rename(final)
    link = paths.snapshots / f".{CURRENT}.{snapshot_id}"
    link.symlink_to(snapshot_id)
    link.replace(paths.snapshots / CURRENT)
    prune(paths, retention_days, keep=snapshot_id)
    return Snapshot(snapshot_id, final / WAREHOUSE_FILE_NAME, metadata)


def list_snapshots(paths: MaglumatPaths) -> list[str]:
    if not paths.snapshots.exists():
        return []
    return sorted(
        child.name
        for child in paths.snapshots.iterdir()
        if child.is_dir() and not child.is_symlink() and not child.name.startswith(".")
    )


def prune(paths: MaglumatPaths, retention_days: int, keep: str) -> list[str]:
    """Remove snapshots older than ``retention_days`` (never the current one)."""
    cutoff = (clock.now() - dt.timedelta(days=retention_days)).strftime(SNAPSHOT_ID_FORMAT)
    removed = []
    for snapshot_id in list_snapshots(paths):
        if snapshot_id < cutoff and snapshot_id != keep:
            folder = paths.snapshots / snapshot_id
            for child in folder.iterdir():
                child.chmod(0o644)
            # Recorded first: a reader asking for an earlier day is told retention removed it.
            _record_removed(paths, snapshot_id)
            shutil.rmtree(folder)
            removed.append(snapshot_id)
    return removed


REMOVED_MARK = ".removed_through"  # the newest snapshot id retention has removed


def _record_removed(paths: MaglumatPaths, snapshot_id: str) -> None:
    previous = _removed_through(paths)
    if previous is not None and previous >= snapshot_id:
        return
    mark = paths.snapshots / REMOVED_MARK
    scratch = mark.with_name(f"{REMOVED_MARK}.tmp")
    scratch.write_text(snapshot_id + "\n", encoding="utf-8")
    scratch.replace(mark)


def _removed_through(paths: MaglumatPaths) -> str | None:
    mark = paths.snapshots / REMOVED_MARK
    return mark.read_text(encoding="utf-8").strip() or None if mark.exists() else None


def current_snapshot(paths: MaglumatPaths) -> Snapshot | None:
    link = paths.snapshots / CURRENT
    if not link.exists():
        return None
    folder = link.resolve()
    metadata = json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
    return Snapshot(folder.name, folder / WAREHOUSE_FILE_NAME, metadata)


def open_current(paths: MaglumatPaths) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current snapshot."""
    snapshot = current_snapshot(paths)
    if snapshot is None:
        raise FileNotFoundError(f"no snapshot published under {paths.snapshots} yet")
    return read_only_connection(snapshot.path)


def publication_time(snapshot_id: str) -> dt.datetime:
    """When a snapshot was published (its id is the UTC publishing time)."""
    return dt.datetime.strptime(snapshot_id, SNAPSHOT_ID_FORMAT).replace(tzinfo=dt.UTC)


def load_snapshot(paths: MaglumatPaths, snapshot_id: str) -> Snapshot:
    folder = paths.snapshots / snapshot_id
    if not (folder / "snapshot.json").exists():
        raise SnapshotNotFoundError(f"no snapshot {snapshot_id} under {paths.snapshots}")
    metadata = json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
    return Snapshot(snapshot_id, folder / WAREHOUSE_FILE_NAME, metadata)


def snapshot_in_force(paths: MaglumatPaths, moment: dt.datetime) -> Snapshot:
    """The snapshot readers were given at ``moment``: the last one published before it.

    Raises SnapshotNotFoundError when none was published by then, or when it has since been
    removed by retention (the message names the oldest snapshot kept).
    """
    if moment.tzinfo is None:
        raise ValueError(f"{moment} has no time zone")
    before = moment.astimezone(dt.UTC).strftime(SNAPSHOT_ID_FORMAT)
    kept = list_snapshots(paths)
    earlier = [snapshot_id for snapshot_id in kept if snapshot_id < before]
    if not earlier:
        if not kept:
            oldest = "none has been published yet"
        elif _removed_through(paths) is None:
            oldest = f"the first was published at {publication_time(kept[0]).isoformat()}"
        else:
            oldest = (
                f"the oldest snapshot kept was published at"
                f" {publication_time(kept[0]).isoformat()}; older ones were removed after the"
                " retention period"
            )
        raise SnapshotNotFoundError(f"no snapshot was in force at {moment.isoformat()}: {oldest}")
    return load_snapshot(paths, earlier[-1])
