"""Where Maglumat keeps its state, taken from the environment.

Everything that runs (landing zone, warehouse, snapshots, reports, Dagster's instance) lives
under one home directory, ``MAGLUMAT_HOME`` (default ``./var``), so a test or a second
deployment only has to point that variable elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SUITES_DIR = PROJECT_ROOT / "quality" / "suites"
CATALOGUE_DIR = PROJECT_ROOT / "pipelines"
WAREHOUSE_FILE_NAME = "warehouse.duckdb"


@dataclass(frozen=True)
class MaglumatPaths:
    """The on-disk layout under ``MAGLUMAT_HOME``."""

    home: Path

    @classmethod
    def from_env(cls) -> MaglumatPaths:
        home = os.environ.get("MAGLUMAT_HOME") or str(PROJECT_ROOT / "var")
        return cls(Path(home).resolve())

    @property
    def systems(self) -> Path:
        """Files of the simulated sector systems (the demo's stand-ins for ministries)."""
        return self.home / "systems"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse" / WAREHOUSE_FILE_NAME

    @property
    def snapshots(self) -> Path:
        return self.home / "snapshots"

    @property
    def current_snapshot(self) -> Path:
        return self.snapshots / "current" / WAREHOUSE_FILE_NAME

    @property
    def quality_results(self) -> Path:
        return self.home / "quality"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def dagster_home(self) -> Path:
        return Path(os.environ.get("DAGSTER_HOME") or self.home / "dagster_home")

    def ensure(self) -> None:
        for path in (
            self.systems,
            self.landing,
            self.warehouse.parent,
            self.snapshots,
            self.quality_results,
            self.reports,
        ):
            path.mkdir(parents=True, exist_ok=True)
