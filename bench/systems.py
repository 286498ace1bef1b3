"""The simulated sector systems at a scale factor: generated once, cached, copied per run.

The cache (``bench/.data/sf<N>-seed<S>-v<version>/``) holds the three scaled systems' records as
Parquet (every record up to the incremental day) and ``systems/``, every sector system in its
native format (SQLite files, CSV and XLSX inboxes, the JSON lines log, the APIs' state) as it
stands at the benchmark's moment. A run copies ``systems/`` into a fresh ``MAGLUMAT_HOME``; the
incremental day then appends what the systems received in the following day.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from simulator import scale as scaled
from simulator import scale_fuel_energy as scaled_fuel_energy
from simulator import sector_modules

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / ".data"
AS_OF = DEFAULT_AS_OF  # 1 October 2023, 11:00 in Aşgabat: the demo's moment
NEXT_DAY = AS_OF + dt.timedelta(days=1)
# Generated at scale: by simulator.scale (processing, edocument) and simulator.scale_fuel_energy.
SCALED_SYSTEMS = {"processing", "edocument", "fuel_energy"}
PROCESSING_DATABASE = "processing_output.sqlite"
EDOCUMENT_LOG = Path("edocument_workflow") / "events"
CACHE_VERSION = 3  # bump when the generator changes shape


@dataclass(frozen=True)
class CachedSystems:
    directory: Path
    generation_seconds: float | None  # None: found in the cache
    rows: dict[str, int]

    @property
    def systems(self) -> Path:
        return self.directory / "systems"

    @property
    def records(self) -> Path:
        return self.directory / "records"


def sf_label(scale_factor: float) -> str:
    """``1`` for 1.0, ``0.1`` for 0.1: the scale factor as files name it."""
    return f"{scale_factor:g}"


def cache_directory(scale_factor: float, seed: int) -> Path:
    return DATA_DIR / f"sf{sf_label(scale_factor)}-seed{seed}-v{CACHE_VERSION}"


def _demo_sectors(paths: MaglumatPaths, as_of: dt.datetime, seed: int) -> dict[str, int]:
    """The sectors at their demo (national) size, by their own simulators."""
    added: dict[str, int] = {}
    for module in sector_modules():
        sector = module.__name__.rpartition(".")[2]
        if sector in SCALED_SYSTEMS:
            continue
        for table, count in module.simulate(paths, as_of, seed).items():
            added[f"{sector}.{table}"] = count
    return added


def prepare(scale_factor: float, seed: int = DEFAULT_SEED) -> CachedSystems:
    """The systems at ``scale_factor`` as of the benchmark's moment, generated when not cached."""
    directory = cache_directory(scale_factor, seed)
    done = directory / "complete"
    if done.exists():
        records = scaled.ScaledSystems.read_parquet(directory / "records")
        fuel_energy = scaled_fuel_energy.ScaledFuelEnergy.read_parquet(directory / "records")
        return CachedSystems(directory, None, _row_counts(records, fuel_energy))
    if directory.exists():
        shutil.rmtree(directory)  # debris of an interrupted generation
    started = time.perf_counter()
    records = scaled.generate(scale_factor, seed, NEXT_DAY)
    records.write_parquet(directory / "records")
    paths = MaglumatPaths(directory)
    paths.systems.mkdir(parents=True, exist_ok=True)
    scaled.write(
        records,
        paths.systems / PROCESSING_DATABASE,
        paths.systems / EDOCUMENT_LOG,
        after=None,
        until=AS_OF,
    )
    rows = _scaled_row_counts(records)
    del records  # one generated system in memory at a time: SF 10 fits comfortably
    fuel_energy = scaled_fuel_energy.generate(scale_factor, seed, NEXT_DAY)
    fuel_energy.write_parquet(directory / "records")
    scaled_fuel_energy.write(fuel_energy, paths.systems, until=AS_OF)
    rows |= _fuel_energy_row_counts(fuel_energy)
    del fuel_energy
    _demo_sectors(paths, AS_OF, seed)
    elapsed = time.perf_counter() - started
    done.write_text(f"{elapsed:.3f}\n")
    return CachedSystems(directory, elapsed, rows)


def _row_counts(
    records: scaled.ScaledSystems, fuel_energy: scaled_fuel_energy.ScaledFuelEnergy
) -> dict[str, int]:
    return _scaled_row_counts(records) | _fuel_energy_row_counts(fuel_energy)


def _scaled_row_counts(records: scaled.ScaledSystems) -> dict[str, int]:
    cutoff = AS_OF.strftime("%Y-%m-%d %H:%M:%S")
    output = records.daily_output.filter(records.daily_output["entered_at"] <= cutoff)
    lines = records.event_lines.filter(
        records.event_lines["logged_at_utc"] <= AS_OF.replace(tzinfo=None)
    )
    return {
        "processing_output.daily_output": output.height,
        "processing_output.monthly_plans": records.monthly_plans.height,
        "processing_output.plants": records.plants.height,
        "edocument_workflow.events": lines.height,
    }


def _fuel_energy_row_counts(fuel_energy: scaled_fuel_energy.ScaledFuelEnergy) -> dict[str, int]:
    return {
        f"fuel_energy_production.{table}": count
        for table, count in fuel_energy.rows_by(AS_OF).items()
    }


def fresh_home(cached: CachedSystems, home: Path) -> MaglumatPaths:
    """A new ``MAGLUMAT_HOME`` holding a copy of the cached systems, nothing else."""
    if home.exists():
        shutil.rmtree(home)
    paths = MaglumatPaths(home)
    paths.ensure()
    shutil.rmtree(paths.systems)
    shutil.copytree(cached.systems, paths.systems)
    return paths


def advance_one_day(cached: CachedSystems, paths: MaglumatPaths, seed: int) -> dict[str, int]:
    """What every system received in the day after the benchmark's moment."""
    records = scaled.ScaledSystems.read_parquet(cached.records)
    added = scaled.write(
        records,
        paths.systems / PROCESSING_DATABASE,
        paths.systems / EDOCUMENT_LOG,
        after=AS_OF,
        until=NEXT_DAY,
    )
    added = {f"scaled.{name}": count for name, count in added.items()}
    # The fuel-energy inbox receives the next day's file(s) only: the day's figures, sent the
    # next morning.
    fuel_energy = scaled_fuel_energy.ScaledFuelEnergy.read_parquet(cached.records)
    delivered = scaled_fuel_energy.write(fuel_energy, paths.systems, until=NEXT_DAY)
    added |= {f"scaled.fuel_energy_production.{name}": n for name, n in delivered.items()}
    return added | _demo_sectors(paths, NEXT_DAY, seed)
