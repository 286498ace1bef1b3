"""``make bench``: the real pipeline at scale factors, timed per stage, beside the baseline.

For each scale factor: generate (or take from the cache) the simulated sector systems, copy them
into a fresh ``MAGLUMAT_HOME``, run the Dagster daily job in this process (every gate, dbt, the
snapshot, the report), advance the systems by one simulated day and run again, then time the
indicator queries on the snapshot, the pandas + PostgreSQL baseline and the DuckDB floor
(``bench.floor``), and write ``bench/results/<date>-sf<N>.json`` and ``.md`` and
``bench/results/latest.md``.

    python -m bench.run --sf 1 --sf 10
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import importlib
import io
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import systems
from bench.measure import (
    GB,
    MemorySampler,
    StageTimer,
    fixed_overhead,
    instrumented,
    machine,
    profile_summary,
    query_latency,
    snapshot_raw_rows,
    stop_leftovers,
    tree_rss_bytes,
)
from bench.write_up import RESULTS_DIR, STAGES, growth_markdown, markdown, write_results

RUNS_DIR = systems.DATA_DIR / "runs"
STEP_STAGES = {"landing": "extract", "raw": "load", "snapshot": "publish", "reports": "reports"}
# Issue 19's targets, judged at SF 10 on two cores (and the query latency of issue 8).
TARGETS = {
    "full_build_seconds": 120.0,
    "incremental_day_seconds": 30.0,
    "fixed_overhead_seconds": 10.0,
    "peak_memory_gb": 4.0,
    "baseline_speedup": 1.0,
    "query_p95_ms": 50.0,
}
# The incremental day's cost follows the day, not the history: SF 10 against SF 1.
INCREMENTAL_GROWTH_TARGET = 1.5


def _step_stage(step_key: str) -> str:
    prefix = step_key.split("__", 1)[0]
    return STEP_STAGES.get(prefix, "dbt" if "__" not in step_key else "other")


def run_job(
    paths: Any, as_of: dt.datetime, seed: int, profile_to: Path | None = None
) -> dict[str, Any]:
    """One in-process run of the daily job, measured by stage; with ``profile_to``, under
    cProfile too (slower: for finding a bottleneck, not for the figures)."""
    import dagster as dg

    from pipelines.definitions import DAILY_JOB, build_definitions
    from simulator import serving_all

    timer = StageTimer()
    job = build_definitions().resolve_job_def(DAILY_JOB)
    with (
        serving_all(paths, as_of, seed),
        dg.DagsterInstance.get() as instance,
        instrumented(timer),
        MemorySampler() as sampler,
    ):
        started = time.time()
        profiler = cProfile.Profile() if profile_to else None
        if profiler:
            profiler.enable()
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        if profiler:
            profiler.disable()
        ended = time.time()
        logs = instance.all_logs(result.run_id)
        # The reports are jobs of their own that read the published snapshot: rendered after
        # the run as the schedules would (daily, weekly per ministry, monthly; three languages).
        reports_window = (time.time(), time.time())
        reports_failed = True
        if result.success:
            from contextlib import redirect_stdout

            from pipelines.commands.reports import demo_reports

            with redirect_stdout(io.StringIO()):
                reports_failed = bool(demo_reports(as_of))
            reports_window = (ended, time.time())
    leftovers = stop_leftovers()
    steps: dict[str, dict[str, float]] = {}
    dbt_models: dict[str, float] = {}
    for entry in logs:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        step = steps.setdefault(event.step_key, {})
        if event.event_type_value == "STEP_START":
            step["start"] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            step["end"] = entry.timestamp
            step["failed"] = float(event.event_type_value == "STEP_FAILURE")
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            duration = materialization.metadata.get("Execution Duration")
            if duration is not None:
                name = materialization.asset_key.to_user_string()
                dbt_models[name] = float(duration.value)
    by_stage: dict[str, float] = {stage: 0.0 for stage in (*STAGES, "other")}
    windows: dict[str, list[tuple[float, float]]] = {stage: [] for stage in by_stage}
    for key, step in steps.items():
        if "start" in step and "end" in step:
            stage = _step_stage(key)
            by_stage[stage] += step["end"] - step["start"]
            windows[stage].append((step["start"], step["end"]))
    # Inside the steps: landing is timed apart from extraction, the gate apart from the load.
    by_stage["land"] = timer.seconds.get("land", 0.0)
    by_stage["extract"] = max(by_stage["extract"] - by_stage["land"], 0.0)
    by_stage["gate"] = timer.seconds.get("gate", 0.0)
    by_stage["load"] = max(by_stage["load"] - by_stage["gate"], 0.0)
    windows["land"] = windows["extract"]
    windows["gate"] = windows["load"]
    wall = ended - started
    by_stage["reports"] = reports_window[1] - reports_window[0]
    windows["reports"] = [reports_window]
    first_step = min((s["start"] for s in steps.values() if "start" in s), default=started)
    failed_steps = [key for key, step in steps.items() if step.get("failed")]
    checks_failed = [
        f"{e.asset_check_key.name} on {e.asset_check_key.asset_key.to_user_string()}"
        for e in result.get_asset_check_evaluations()
        if not e.passed
    ]
    rows = {
        "extract": timer.rows.get("land", 0),
        "land": timer.rows.get("land", 0),
        "gate": timer.rows.get("gate", 0),
        "load": timer.rows.get("load", 0),
    }
    return {
        "success": bool(result.success) and not failed_steps,
        "failed_steps": failed_steps,
        "failed_checks": checks_failed,
        "stopped_leftover_processes": leftovers,
        "wall_seconds": wall,
        "run_start_seconds": first_step - started,
        "orchestration_seconds": wall - sum(by_stage.values()) + by_stage["reports"],
        "reports_rendered": not reports_failed,
        "peak_rss_bytes": sampler.peak(),
        "stages": {
            stage: {
                "seconds": by_stage[stage],
                "rows": rows.get(stage),
                "peak_rss_bytes": max(
                    (sampler.peak(start, end) for start, end in windows[stage]), default=0
                ),
            }
            for stage in (*STAGES, "other")
        },
        "slowest_steps": dict(
            sorted(
                ((key, s["end"] - s["start"]) for key, s in steps.items() if "end" in s),
                key=lambda item: item[1],
                reverse=True,
            )[:12]
        ),
        "profile": profile_summary(profiler, profile_to) if profiler and profile_to else None,
        "dbt_slowest_models": dict(
            sorted(dbt_models.items(), key=lambda item: item[1], reverse=True)[:12]
        ),
    }


def _indicators_by(module_name: str, paths: Any) -> dict[str, Any]:
    """The six indicators computed by ``bench.baseline`` or ``bench.floor`` from the landing zone
    and compared with the snapshot; an error is recorded rather than raised (no server, say)."""
    try:
        from bench.baseline import INDICATORS

        module = importlib.import_module(f"bench.{module_name}")
        outcome = module.run(paths, paths.current_snapshot)
    except Exception as error:
        return {"error": f"{error.__class__.__name__}: {error}"}
    return asdict(outcome) | {
        "total_seconds": outcome.total_seconds,
        "equal": outcome.equal,
        "indicators": list(INDICATORS),
    }


def _targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    full, incremental = result["full"], result["incremental"]
    overhead = result["fixed_overhead"]
    baseline = result.get("baseline") or {}
    speedup = (
        baseline["total_seconds"] / full["wall_seconds"] if baseline.get("total_seconds") else None
    )
    figures = {
        "full_build_seconds": (full["wall_seconds"], "<="),
        "incremental_day_seconds": (incremental["wall_seconds"] if incremental else None, "<="),
        "fixed_overhead_seconds": (overhead.get("total"), "<="),
        "peak_memory_gb": (full["peak_rss_bytes"] / GB, "<="),
        "baseline_speedup": (speedup, ">="),
        "query_p95_ms": ((result.get("queries") or {}).get("p95_ms"), "<"),
    }
    targets = {}
    for name, (value, comparison) in figures.items():
        limit = TARGETS[name]
        met = None
        if value is not None:
            met = {"<": value < limit, "<=": value <= limit, ">=": value >= limit}[comparison]
        targets[name] = {"value": value, "target": f"{comparison} {limit:g}", "met": met}
    return targets


def incremental_growth(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The incremental day at SF 10 against SF 1, when both were run: the same one day of new
    files, ten times the history."""
    by_scale = {
        result["scale_factor"]: result["incremental"]
        for result in results
        if result.get("incremental") and result["incremental"]["success"]
    }
    if 1.0 not in by_scale or 10.0 not in by_scale:
        return None
    small, large = by_scale[1.0]["wall_seconds"], by_scale[10.0]["wall_seconds"]
    ratio = large / small
    return {
        "sf1_seconds": small,
        "sf10_seconds": large,
        "ratio": ratio,
        "target": f"<= {INCREMENTAL_GROWTH_TARGET:g}",
        "met": ratio <= INCREMENTAL_GROWTH_TARGET,
    }


def bench(
    scale_factor: float,
    seed: int,
    repeats: int,
    keep_home: bool,
    incremental: bool = True,
    profile: bool = False,
    measure_overhead: bool = True,
) -> dict[str, Any]:
    """Generate or reuse the systems, run full and incremental, time queries and the baseline."""

    print(f"[bench] SF {systems.sf_label(scale_factor)}: preparing the sector systems", flush=True)
    cached = systems.prepare(scale_factor, seed)
    if cached.generation_seconds is None:
        print("[bench]   taken from the cache", flush=True)
    else:
        print(f"[bench]   generated in {cached.generation_seconds:.1f} s", flush=True)
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    home = RUNS_DIR / f"sf{systems.sf_label(scale_factor)}"
    copy_started = time.perf_counter()
    paths = systems.fresh_home(cached, home)
    copy_seconds = time.perf_counter() - copy_started
    os.environ["MAGLUMAT_HOME"] = str(paths.home)
    os.environ["DAGSTER_HOME"] = str(paths.home / "dagster_home")
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    (paths.dagster_home / "dagster.yaml").touch()

    overhead: dict[str, float] = {}
    deployment_parse: float | None = None
    from pipelines.assets.transform import DBT_PROJECT

    if not measure_overhead and not DBT_PROJECT.manifest_path.exists():
        from pipelines.commands.running import prepare

        prepare()
    elif (
        measure_overhead
    ):  # parses the dbt project into dbt_project/target, as `maglumat demo` does
        print("[bench]   fixed overhead (imports, dbt parse, definitions)", flush=True)
        overhead, deployment_parse = fixed_overhead()
    print("[bench]   full build", flush=True)
    profile_to = RUNS_DIR / f"sf{systems.sf_label(scale_factor)}-full.prof" if profile else None
    full = run_job(paths, systems.AS_OF, seed, profile_to)
    if overhead:
        overhead["run_start"] = full["run_start_seconds"]
        overhead["total"] = sum(overhead.values())
    raw_rows = snapshot_raw_rows(paths.current_snapshot) if paths.current_snapshot.exists() else 0
    full["stages"]["dbt"]["rows"] = raw_rows
    print("[bench]   queries on the snapshot", flush=True)
    queries = query_latency(paths, repeats) if paths.current_snapshot.exists() else {}

    print("[bench]   baseline (pandas + PostgreSQL)", flush=True)
    baseline = _indicators_by("baseline", paths)
    print("[bench]   floor (DuckDB SQL on the landed Parquet)", flush=True)
    floor = _indicators_by("floor", paths)

    advanced: dict[str, int] = {}
    advance_seconds = None
    next_day: dict[str, Any] | None = None
    if incremental and not full["success"]:
        print("[bench]   the full build failed: no incremental day", flush=True)
    elif incremental:
        print("[bench]   incremental day", flush=True)
        advance_started = time.perf_counter()
        advanced = systems.advance_one_day(cached, paths, seed)
        advance_seconds = time.perf_counter() - advance_started
        next_day = run_job(paths, systems.NEXT_DAY, seed)
        next_day["stages"]["dbt"]["rows"] = (
            snapshot_raw_rows(paths.current_snapshot) - raw_rows
            if paths.current_snapshot.exists()
            else 0
        )

    result: dict[str, Any] = {
        "scale_factor": scale_factor,
        "seed": seed,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "source_rows": cached.rows,
        "generation_seconds": cached.generation_seconds,
        "copy_systems_seconds": copy_seconds,
        "advance_day_seconds": advance_seconds,
        "advance_day_rows": advanced,
        "fixed_overhead": overhead,
        "deployment_dbt_parse_seconds": deployment_parse,
        "full": full,
        "incremental": next_day,
        "queries": queries,
        "baseline": baseline,
        "floor": floor,
        "runner_peak_rss_bytes": tree_rss_bytes(),
    }
    result["targets"] = _targets(result)
    if not keep_home:
        shutil.rmtree(paths.home, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sf", type=float, action="append", help="scale factor (repeatable; default 1 and 10)"
    )
    parser.add_argument("--seed", type=int, default=systems.DEFAULT_SEED)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each query")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--keep-home", action="store_true", help="keep the run's MAGLUMAT_HOME")
    parser.add_argument(
        "--profile", action="store_true", help="run the full build under cProfile (slower)"
    )
    arguments = parser.parse_args(argv)
    results = []
    for scale_factor in arguments.sf or [1.0, 10.0]:
        started = time.perf_counter()
        result = bench(
            scale_factor,
            arguments.seed,
            arguments.repeats,
            arguments.keep_home,
            profile=arguments.profile,
        )
        result["bench_seconds"] = time.perf_counter() - started
        results.append(result)
        print(markdown(result), flush=True)
    growth = incremental_growth(results)
    if growth:
        print(growth_markdown(growth), flush=True)
    for path in write_results(results, arguments.results, growth):
        print(f"[bench] wrote {path}")
    succeeded = all(
        run["success"] for result in results for run in (result["full"], result["incremental"])
    )
    return 0 if succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
