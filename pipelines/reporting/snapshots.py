"""Which published snapshot a report period is read from.

A report shows what was known when its period ended: the latest snapshot published on or
before the period's last day plus a day of grace (districts report the day after). Snapshots
are kept for ``snapshot_retention_days``; when none that old is kept (or the period has just
ended), the current snapshot is used. The choice is recorded in the report's metadata.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from maglumat import clock
from maglumat.settings import WAREHOUSE_FILE_NAME, MaglumatPaths
from warehouse.snapshot import Snapshot, current_snapshot, list_snapshots

GRACE = dt.timedelta(days=1)


@dataclass(frozen=True)
class SnapshotChoice:
    snapshot: Snapshot
    reason: str


def _published_on(metadata: dict) -> dt.date:
    return clock.local_date(dt.datetime.fromisoformat(metadata["published_at"]))


def snapshot_for_period(paths: MaglumatPaths, period_end: dt.date) -> SnapshotChoice:
    """The snapshot a period ending on ``period_end`` is reported from."""
    cutoff = period_end + GRACE
    chosen: Snapshot | None = None
    for snapshot_id in list_snapshots(paths):  # oldest first
        folder = paths.snapshots / snapshot_id
        try:
            metadata = json.loads((folder / "snapshot.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue  # being pruned
        if _published_on(metadata) <= cutoff:
            chosen = Snapshot(snapshot_id, folder / WAREHOUSE_FILE_NAME, metadata)
    if chosen is not None:
        return SnapshotChoice(
            chosen,
            f"published {chosen.metadata['published_at']}, the latest on or before "
            f"{cutoff.isoformat()} (end of period plus a day of grace)",
        )
    current = current_snapshot(paths)
    if current is None:
        raise FileNotFoundError(f"no snapshot published under {paths.snapshots} yet")
    return SnapshotChoice(
        current,
        f"the current snapshot (published {current.metadata['published_at']}): none kept was "
        f"published on or before {cutoff.isoformat()}",
    )
