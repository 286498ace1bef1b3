"""The benchmark keeps working: its scaled systems pass the real gate, and the runner at a tiny
scale factor measures every stage and agrees with the pandas + PostgreSQL baseline and the
DuckDB floor."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from maglumat.catalogue import load_catalogue
from maglumat.settings import MaglumatPaths
from pipelines.ingest import extract_to_landing, gate_and_load
from simulator import scale, scale_fuel_energy, sector_modules

SCALED = ("processing_output", "edocument_workflow")


def test_the_demo_does_not_run_the_scale_generator() -> None:
    # simulate_all runs every simulator module with a `simulate`: the demo's output must not change.
    assert not hasattr(scale, "simulate")
    assert not hasattr(scale_fuel_energy, "simulate")
    simulated = {module.__name__.rpartition(".")[2] for module in sector_modules()}
    assert not simulated & {"scale", "scale_fuel_energy"}


def test_scale_plan_grows_the_register_then_the_history() -> None:
    small, one, ten = (scale.ScalePlan.of(sf) for sf in (0.01, 1, 10))
    assert small.plants_per_kind < one.plants_per_kind == ten.plants_per_kind == 99
    # No output before the warehouse's calendar starts (dim_dates, from January 2022).
    assert small.history_years == 1
    assert one.history_years == ten.history_years == 2
    assert small.documents_per_working_day < one.documents_per_working_day
    assert ten.documents_per_working_day > 9 * one.documents_per_working_day


def _land_and_gate(
    paths: MaglumatPaths, systems: tuple[str, ...] = SCALED, landed_days: set[str] | None = None
) -> dict[str, tuple[int, int, int]]:
    """Rows landed, loaded and quarantined per table of the scaled systems; no batch held.
    ``landed_days`` collects the report dates of the landed daily production rows."""
    outcome: dict[str, tuple[int, int, int]] = {}
    for system in load_catalogue():
        if system.name not in systems:
            continue
        for table in system.tables:
            landed = extract_to_landing(paths, system, table)
            if landed_days is not None and table.name == "daily_production":
                for manifest in landed.manifests:
                    batch = pl.read_parquet(manifest.parquet_path(paths.landing))
                    landed_days.update(batch.get_column("report_date").unique().to_list())
            gated = gate_and_load(paths, system, table)
            assert gated.open_holds == [], f"{system.name}.{table.name} held"
            outcome[f"{system.name}.{table.name}"] = (
                sum(m.row_count for m in landed.manifests),
                sum(load.loaded_rows for load in gated.loads),
                sum(load.quarantined_rows for load in gated.loads),
            )
    return outcome


def test_scaled_systems_pass_the_gate_and_advance_by_a_day(maglumat_home: MaglumatPaths) -> None:
    from bench.systems import AS_OF, EDOCUMENT_LOG, NEXT_DAY, PROCESSING_DATABASE

    records = scale.generate(0.01, 7, NEXT_DAY)
    database = maglumat_home.systems / PROCESSING_DATABASE
    log = maglumat_home.systems / EDOCUMENT_LOG
    written = scale.write(records, database, log, after=None, until=AS_OF)
    first = _land_and_gate(maglumat_home)
    assert first["processing_output.daily_output"] == (written["daily_output"],) * 2 + (0,)
    assert first["processing_output.plants"] == (40, 40, 0)
    assert first["edocument_workflow.events"] == (written["events"],) * 2 + (0,)
    assert written["daily_output"] > 10_000
    assert written["events"] > 4_000

    day = scale.write(records, database, log, after=AS_OF, until=NEXT_DAY)
    second = _land_and_gate(maglumat_home)
    # One day more: yesterday's output of the plants, the day's events; nothing twice.
    assert 0 < day["daily_output"] < written["daily_output"] / 100
    assert second["processing_output.daily_output"] == (day["daily_output"],) * 2 + (0,)
    assert second["edocument_workflow.events"] == (day["events"],) * 2 + (0,)
    assert second["processing_output.plants"] == (0, 0, 0)  # unchanged: not landed again


def test_fuel_energy_scale_grows_the_units_within_the_code_space() -> None:
    from bench.systems import NEXT_DAY

    small, one, ten = (scale_fuel_energy.FuelEnergyScale.of(sf, NEXT_DAY) for sf in (0.01, 1, 10))
    assert small.units < one.units < ten.units
    # About SF x 1,560 rows a day from January 2022: some 9,500 units at SF 10.
    assert 9_000 < ten.units < 10_000
    # Each prefix has 17,576 codes; the gas fields (40 % of the units) fill theirs first.
    largest = scale_fuel_energy.FuelEnergyScale.of(100, NEXT_DAY).units
    assert largest == scale_fuel_energy.MAX_UNITS == 43_940


@pytest.mark.bench
def test_scaled_fuel_energy_passes_the_gate_and_advances_by_a_day(
    maglumat_home: MaglumatPaths,
) -> None:
    # The generated inbox files pass the real gate whole (nothing quarantined or held), and the
    # one-day advance delivers that day's file only.
    from bench.systems import AS_OF, NEXT_DAY

    records = scale_fuel_energy.generate(0.01, 7, NEXT_DAY)
    written = scale_fuel_energy.write(records, maglumat_home.systems, until=AS_OF)
    assert written == records.rows_by(AS_OF) | {"products": 4, "files": written["files"]}
    # The archive a month a file (January 2022 to August 2023), a file a day since.
    assert written["files"] > 20 + 30
    assert 8_000 < written["daily_production"] < 14_000
    first = _land_and_gate(maglumat_home, ("fuel_energy_production",))
    for table in ("daily_production", "monthly_plans", "enterprises", "products"):
        assert first[f"fuel_energy_production.{table}"] == (written[table],) * 2 + (0,), table

    day = scale_fuel_energy.write(records, maglumat_home.systems, until=NEXT_DAY)
    days: set[str] = set()
    second = _land_and_gate(maglumat_home, ("fuel_energy_production",), days)
    # One file more: the figures of the day before the new moment, sent that morning.
    assert day["files"] == 1
    assert 0 < day["daily_production"] < written["daily_production"] / 100
    assert days == {"2023-10-01"}
    loaded_day = second["fuel_energy_production.daily_production"]
    assert loaded_day == (day["daily_production"], day["daily_production"], 0)
    assert second["fuel_energy_production.monthly_plans"] == (0, 0, 0)


@pytest.mark.slow
@pytest.mark.bench
def test_runner_measures_every_stage_and_matches_the_baseline(
    postgres_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench import run, systems, write_up

    monkeypatch.setenv("MAGLUMAT_BENCH_POSTGRES_DSN", postgres_dsn)
    monkeypatch.setattr(systems, "DATA_DIR", tmp_path / "data")
    monkeypatch.setattr(run, "RUNS_DIR", tmp_path / "runs")
    # The session parsed the dbt project already: no second parse (other tests read its manifest).
    result = run.bench(
        0.01, seed=7, repeats=1, keep_home=False, incremental=False, measure_overhead=False
    )
    written = write_up.write_results([result], tmp_path / "results")

    saved = json.loads(next(p for p in written if p.suffix == ".json").read_text())
    assert saved["full"]["success"], saved["full"]["failed_steps"]
    assert set(write_up.STAGES) <= set(saved["full"]["stages"])
    # The reports are rendered after the run, from its snapshot, as their schedules do.
    assert saved["full"]["reports_rendered"]
    for stage in ("extract", "land", "gate", "load", "dbt", "publish", "reports"):
        assert saved["full"]["stages"][stage]["seconds"] > 0, stage
    assert (
        saved["full"]["stages"]["gate"]["rows"]
        >= saved["source_rows"]["processing_output.daily_output"]
    )
    assert saved["full"]["peak_rss_bytes"] > 100 * 2**20
    assert saved["queries"]["queries"] > 100
    baseline = saved["baseline"]
    assert baseline["equal"], baseline["mismatches"][:3]
    assert baseline["values"] > 100
    # The floor: the same indicators by DuckDB SQL straight from the landed Parquet.
    floor = saved["floor"]
    assert "error" not in floor, floor.get("error")
    assert floor["equal"], floor["mismatches"][:3]
    assert floor["values"] > 100
    assert floor["total_seconds"] > 0
    assert saved["machine"]["cores"] >= 1
    latest = (tmp_path / "results" / "latest.md").read_text()
    assert "| dbt |" in latest
    assert "| Maglumat / floor |" in latest
