"""The command line's home: the state directory a command writes or only reads, the demo's
defaults, Dagster's local instance."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from maglumat.settings import MaglumatPaths
from pipelines.cli_arguments import UsageError


def home_paths() -> MaglumatPaths:
    """The home of a command that makes it (demo, simulate, prepare, run)."""
    paths = MaglumatPaths.from_env()
    os.environ["MAGLUMAT_HOME"] = str(paths.home)  # dbt, run as a subprocess, reads it
    paths.ensure()
    return paths


def existing_home_paths() -> MaglumatPaths:
    """The home of a command that reads it: never made here, so a mistyped MAGLUMAT_HOME is
    an error rather than a new, empty warehouse."""
    paths = MaglumatPaths.from_env()
    if not paths.warehouse.exists() and not paths.snapshots.exists():
        where = "MAGLUMAT_HOME" if os.environ.get("MAGLUMAT_HOME") else "the default home"
        raise UsageError(
            f"{where} {paths.home} holds no warehouse: set MAGLUMAT_HOME to the folder the"
            " pipeline writes (`make demo` makes ./var), or run the pipeline first"
        )
    os.environ["MAGLUMAT_HOME"] = str(paths.home)
    return paths


def as_of_or_default(value: dt.datetime | None) -> dt.datetime:
    from maglumat.demo import DEFAULT_AS_OF

    return DEFAULT_AS_OF if value is None else value


def seed_or_default(seed: int | None) -> int:
    from maglumat.demo import DEFAULT_SEED

    return DEFAULT_SEED if seed is None else seed


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def dagster_home(paths: MaglumatPaths) -> None:
    """Dagster's local instance: SQLite storage in the home's folder (or DAGSTER_HOME)."""
    os.environ.setdefault("DAGSTER_HOME", str(paths.dagster_home))
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    settings = dagster_home / "dagster.yaml"
    if not settings.exists() or not settings.read_text(encoding="utf-8").strip():
        # A ministry's servers reach no internet: Dagster's usage statistics stay off.
        settings.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")


def progress_config(log_path: Path, steps: int) -> dict[str, Any]:
    """The command line's logger (pipelines/progress.py) instead of Dagster's console."""
    return {"loggers": {"progress": {"config": {"log_file": str(log_path), "total_steps": steps}}}}
