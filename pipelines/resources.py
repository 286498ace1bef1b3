"""Dagster resources shared by every asset."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from pipelines.settings import MaglumatPaths


class MaglumatResource(dg.ConfigurableResource):
    """The deployment Maglumat runs in: where its landing zone, warehouse and outputs live.

    Attributes:
        home: Root directory of the deployment's state. Empty means ``MAGLUMAT_HOME`` from the
            environment, or ``./var`` in the project.
        snapshot_retention_days: How many days of published snapshots to keep.
        clock: The time freshness is judged at, ISO 8601; empty means now. Set it to replay a
            past day or to test the delivery schedule.
    """

    home: str = ""
    snapshot_retention_days: int = 30
    clock: str = ""

    def now(self) -> dt.datetime:
        if not self.clock:
            return dt.datetime.now(dt.UTC)
        moment = dt.datetime.fromisoformat(self.clock)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

    @property
    def paths(self) -> MaglumatPaths:
        if self.home:
            return MaglumatPaths(home=Path(self.home).resolve())
        return MaglumatPaths.from_env()

    def export_environment(self) -> None:
        """Make subprocesses (dbt) see the same deployment as this process."""
        os.environ["MAGLUMAT_HOME"] = str(self.paths.home)
