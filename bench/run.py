"""``make bench``: the real pipeline at scale factors, timed per stage, beside the baseline.

For each scale factor: generate (or take from the cache) the simulated sector systems, copy them
into a fresh ``MAGLUMAT_HOME``, run the Dagster daily job in this process (every gate, dbt, the
snapshot, the report), advance the systems by one simulated day and run again, then time the
indicator queries on the snapshot and the pandas + PostgreSQL baseline, and write
``bench/results/<date>-sf<N>.json`` and ``.md`` and ``bench/results/latest.md``.

    python -m bench.run --sf 1 --sf 10
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import systems
from bench.measure import (
    MemorySampler,
    StageTimer,
    instrumented,
    stop_leftovers,
    tree_rss_bytes,
)

RESULTS_DIR = systems.BENCH_DIR / "results"
RUNS_DIR = systems.DATA_DIR / "runs"
STAGES = ("extract", "land", "gate", "load", "dbt", "publish", "reports")
STEP_STAGES = {"landing": "extract", "raw": "load", "snapshot": "publish", "reports": "reports"}
TARGETS = {
    "full_build_seconds": 60.0,
    "peak_memory_gb": 6.0,
    "incremental_share_pct": 10.0,
    "query_p95_ms": 50.0,
    "fixed_overhead_seconds": 15.0,
    "baseline_speedup": 10.0,
}
GB = 1024**3


def _step_stage(step_key: str) -> str:
    prefix = step_key.split("__", 1)[0]
    return STEP_STAGES.get(prefix, "dbt" if "__" not in step_key else "other")


def fixed_overhead() -> tuple[dict[str, float], float]:
    """Start-up costs every run pays: dbt parse, imports, loading the Dagster definitions; and,
    apart, the full parse a deployment pays once (after an upgrade or a new MAGLUMAT_HOME)."""
    # The run reads the parsed project from dbt_project/target, as `maglumat demo` does: parse
    # it now, so that it matches the models on disk (the definitions are built from it).
    from pipelines.commands.running import prepare

    started = time.perf_counter()
    prepare()
    first_parse = time.perf_counter() - started
    # What every run's dbt invocation pays: a parse that reuses the saved one (partial parsing).
    started = time.perf_counter()
    prepare()
    parse = time.perf_counter() - started
    importing = (
        "import time; started = time.perf_counter();"
        " import dagster, dagster_dbt, pipelines.definitions;"
        " print(time.perf_counter() - started)"
    )
    imports = float(
        subprocess.run(
            [sys.executable, "-c", importing], check=True, capture_output=True, text=True
        ).stdout.split()[-1]
    )
    started = time.perf_counter()
    from pipelines.definitions import DAILY_JOB, build_definitions

    build_definitions().resolve_job_def(DAILY_JOB)
    definitions = time.perf_counter() - started
    return {"imports": imports, "dbt_parse": parse, "definitions": definitions}, first_parse


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
        "profile": _profile_summary(profiler, profile_to) if profiler and profile_to else None,
        "dbt_slowest_models": dict(
            sorted(dbt_models.items(), key=lambda item: item[1], reverse=True)[:12]
        ),
    }


def _profile_summary(profiler: cProfile.Profile, path: Path) -> dict[str, Any]:
    """Save the profile (for snakeviz or pstats) and keep the top functions by cumulative time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(path)
    stats = pstats.Stats(profiler)
    rows = []
    for (file, line, function), (_, calls, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((cumulative, f"{Path(file).name}:{line}({function})", calls))
    rows.sort(reverse=True)
    return {
        "file": str(path),
        "top_cumulative_seconds": {name: round(seconds, 3) for seconds, name, _ in rows[:25]},
    }


def _raw_rows(snapshot: Path) -> int:
    import duckdb

    connection = duckdb.connect(str(snapshot), read_only=True)
    try:
        (count,) = connection.execute(
            "select coalesce(sum(estimated_size), 0) from duckdb_tables() where schema_name = 'raw'"
        ).fetchone()
    finally:
        connection.close()
    return int(count)


def query_latency(paths: Any, repeats: int) -> dict[str, Any]:
    """Every indicator at country and province, and every wide mart, read from the snapshot."""
    from warehouse.snapshot import open_current

    connection = open_current(paths)
    try:
        indicators = [
            row[0]
            for row in connection.execute(
                "select indicator_id from indicators.dim_indicators order by 1"
            ).fetchall()
        ]
        marts = [
            row[0]
            for row in connection.execute(
                "select table_name from duckdb_tables() where schema_name = 'indicators'"
                " and table_name like 'ind_%' order by 1"
            ).fetchall()
        ]
        queries: list[tuple[str, str, list[Any]]] = []
        for indicator in indicators:
            for level in ("country", "province"):
                queries.append(
                    (
                        f"{indicator}@{level}",
                        "select * from indicators.fct_indicator_values"
                        " where indicator_id = ? and region_level = ?",
                        [indicator, level],
                    )
                )
        for mart in marts:
            # Names come from the snapshot's own catalogue.
            queries.append((mart, f"select * from indicators.{mart}", []))  # noqa: S608
        timings: dict[str, list[float]] = {}
        for name, sql, parameters in queries:
            connection.execute(sql, parameters).fetchall()  # warm: the first read pages in
            runs = []
            for _ in range(repeats):
                started = time.perf_counter()
                connection.execute(sql, parameters).fetchall()
                runs.append((time.perf_counter() - started) * 1000)
            timings[name] = runs
    finally:
        connection.close()
    every = sorted(value for runs in timings.values() for value in runs)

    def percentile(values: list[float], share: float) -> float:
        return values[min(len(values) - 1, round(share * (len(values) - 1)))]

    per_query_p95 = {name: percentile(sorted(runs), 0.95) for name, runs in timings.items()}
    slowest = sorted(per_query_p95.items(), key=lambda item: item[1], reverse=True)[:5]
    return {
        "queries": len(queries),
        "repeats": repeats,
        "p50_ms": percentile(every, 0.5),
        "p95_ms": percentile(every, 0.95),
        "max_ms": every[-1],
        "slowest_p95_ms": dict(slowest),
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) * 1024
    versions = {}
    for package in ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "polars",
                    "pandas", "great-expectations", "psycopg", "numpy"):  # fmt: skip
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    postgres = None
    try:
        import psycopg

        from bench.baseline import dsn

        with psycopg.connect(dsn(), connect_timeout=5) as connection:
            postgres = connection.execute("show server_version").fetchone()[0]
    except Exception as error:
        postgres = f"unreachable: {error.__class__.__name__}"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory / GB, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres,
        "versions": versions,
        "load_average": os.getloadavg(),
    }


def _targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    full, incremental = result["full"], result["incremental"]
    overhead = result["fixed_overhead"]
    share = 100 * incremental["wall_seconds"] / full["wall_seconds"] if incremental else None
    baseline = result.get("baseline") or {}
    speedup = (
        baseline["total_seconds"] / full["wall_seconds"] if baseline.get("total_seconds") else None
    )
    figures = {
        "full_build_seconds": (full["wall_seconds"], "<"),
        "peak_memory_gb": (full["peak_rss_bytes"] / GB, "<"),
        "incremental_share_pct": (share, "<"),
        "query_p95_ms": ((result.get("queries") or {}).get("p95_ms"), "<"),
        "fixed_overhead_seconds": (overhead.get("total"), "<"),
        "baseline_speedup": (speedup, ">="),
    }
    targets = {}
    for name, (value, comparison) in figures.items():
        limit = TARGETS[name]
        met = None
        if value is not None:
            met = value < limit if comparison == "<" else value >= limit
        targets[name] = {"value": value, "target": f"{comparison} {limit:g}", "met": met}
    return targets


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
    raw_rows = _raw_rows(paths.current_snapshot) if paths.current_snapshot.exists() else 0
    full["stages"]["dbt"]["rows"] = raw_rows
    print("[bench]   queries on the snapshot", flush=True)
    queries = query_latency(paths, repeats) if paths.current_snapshot.exists() else {}

    print("[bench]   baseline (pandas + PostgreSQL)", flush=True)
    baseline: dict[str, Any] | None
    try:
        from bench import baseline as baseline_module

        outcome = baseline_module.run(paths, paths.current_snapshot)
        baseline = asdict(outcome) | {
            "total_seconds": outcome.total_seconds,
            "equal": outcome.equal,
            "indicators": list(baseline_module.INDICATORS),
        }
    except Exception as error:
        baseline = {"error": f"{error.__class__.__name__}: {error}"}

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
            _raw_rows(paths.current_snapshot) - raw_rows if paths.current_snapshot.exists() else 0
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
        "runner_peak_rss_bytes": tree_rss_bytes(),
    }
    result["targets"] = _targets(result)
    if not keep_home:
        shutil.rmtree(paths.home, ignore_errors=True)
    return result


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _megabytes(value: int | None) -> str:
    return "" if value is None else f"{value / 2**20:,.0f}"


def _rate(rows: int | None, seconds: float) -> str:
    if not rows or seconds <= 0:
        return ""
    return f"{rows / seconds:,.0f}"


def markdown(result: dict[str, Any]) -> str:
    sf = systems.sf_label(result["scale_factor"])
    full, incremental = result["full"], result["incremental"]
    rows = result["source_rows"]
    lines = [
        f"## SF {sf} ({result['date'][:10]}, seed {result['seed']})",
        "",
        f"Source rows: {rows['processing_output.daily_output']:,} daily output rows,"
        f" {rows['edocument_workflow.events']:,} e-document events,"
        f" {rows.get('fuel_energy_production.daily_production', 0):,} fuel-energy daily rows"
        f" (and the other sectors at demo size). Machine: {result['machine']['cores']} cores,"
        f" {result['machine']['memory_gb']} GB, {result['machine']['cpu']};"
        f" load average at the end {result['machine']['load_average'][0]:.1f}.",
        "",
        "| stage | full s | full rows/s | full peak MB | incr. s | incr. rows/s | incr. peak MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    empty = {"seconds": None, "rows": None, "peak_rss_bytes": None}
    for stage in (*STAGES, "other"):
        f = full["stages"][stage]
        i = incremental["stages"][stage] if incremental else empty
        lines.append(
            f"| {stage} | {_seconds(f['seconds'])} | {_rate(f['rows'], f['seconds'])}"
            f" | {_megabytes(f['peak_rss_bytes'])} | {_seconds(i['seconds'])}"
            f" | {_rate(i['rows'], i['seconds'] or 0)} | {_megabytes(i['peak_rss_bytes'])} |"
        )
    i = incremental or {"wall_seconds": None, "peak_rss_bytes": None, "orchestration_seconds": None}
    lines.append(
        f"| Dagster between steps | {_seconds(full['orchestration_seconds'])} | | |"
        f" {_seconds(i['orchestration_seconds'])} | | |"
    )
    lines.append(
        f"| **run** | **{full['wall_seconds']:.2f}** | | **{_megabytes(full['peak_rss_bytes'])}**"
        f" | **{_seconds(i['wall_seconds'])}** | | **{_megabytes(i['peak_rss_bytes'])}** |"
    )
    overhead = result["fixed_overhead"]
    lines += [
        "",
        "The reports (daily campaign, weekly per ministry, monthly government; three languages;"
        " PDF, HTML and XLSX) are rendered after the run from its snapshot, as their schedules"
        " do: the reports row, outside the run's total.",
        "",
        "Fixed overhead: "
        + (
            ", ".join(f"{name.replace('_', ' ')} {value:.2f} s" for name, value in overhead.items())
            or "not measured"
        )
        + (
            f" (the first dbt parse of a deployment, once: {first_parse:.2f} s)"
            if (first_parse := result.get("deployment_dbt_parse_seconds"))
            else ""
        ),
    ]
    queries = result.get("queries") or {}
    if queries:
        lines.append(
            f"Indicator queries on the snapshot ({queries['queries']} queries x"
            f" {queries['repeats']}): p50 {queries['p50_ms']:.1f} ms, p95"
            f" {queries['p95_ms']:.1f} ms, max {queries['max_ms']:.1f} ms."
        )
    baseline = result.get("baseline") or {}
    if "error" in baseline:
        lines.append(f"Baseline: not run ({baseline['error']}).")
    elif baseline:
        dbt_seconds = max(full["stages"]["dbt"]["seconds"], 1e-9)
        maglumat_load = sum(
            full["stages"][s]["seconds"] for s in ("extract", "land", "gate", "load")
        )
        lines += [
            "",
            "| pandas + PostgreSQL baseline | s | Maglumat | s | ratio |",
            "| --- | ---: | --- | ---: | ---: |",
            f"| load (pandas read + COPY), {baseline['rows_loaded']:,} rows"
            f" | {baseline['load_seconds']:.2f} | extract + land + gate + load"
            f" | {maglumat_load:.2f} | {baseline['load_seconds'] / maglumat_load:.2f}x |",
            f"| compute {len(baseline['indicators'])} indicators"
            f" | {baseline['compute_seconds']:.2f} | dbt (every model, indicator and test)"
            f" | {full['stages']['dbt']['seconds']:.2f}"
            f" | {baseline['compute_seconds'] / dbt_seconds:.2f}x |",
            f"| end to end | {baseline['total_seconds']:.2f} | full build |"
            f" {full['wall_seconds']:.2f} |"
            f" {baseline['total_seconds'] / full['wall_seconds']:.2f}x |",
            "",
            f"Baseline values equal Maglumat's: {'yes' if baseline['equal'] else 'NO'}"
            f" ({baseline['matched']} of {baseline['values']} values;"
            f" {len(baseline['mismatches'])} differ, {baseline['missing_in_maglumat']} missing"
            f" in Maglumat, {baseline['missing_in_baseline']} missing in the baseline).",
        ]
    lines += ["", "| target | figure | met |", "| --- | ---: | --- |"]
    for name, target in result["targets"].items():
        value = target["value"]
        figure = "" if value is None else f"{value:.2f}"
        met = {True: "met", False: "missed", None: "n/a"}[target["met"]]
        lines.append(f"| {name.replace('_', ' ')} {target['target']} | {figure} | {met} |")
    for name, measured in (("full", full), ("incremental", incremental)):
        if measured and not measured["success"]:
            lines.append(f"\nThe {name} run failed: steps {measured['failed_steps']}.")
    return "\n".join(lines) + "\n"


def write_results(results: list[dict[str, Any]], directory: Path = RESULTS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    sections = []
    for result in results:
        stem = f"{result['date'][:10]}-sf{systems.sf_label(result['scale_factor'])}"
        json_path = directory / f"{stem}.json"
        json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        md_path = directory / f"{stem}.md"
        section = markdown(result)
        md_path.write_text(f"# Maglumat benchmark\n\n{section}")
        sections.append(section)
        written += [json_path, md_path]
    latest = directory / "latest.md"
    latest.write_text(
        "# Maglumat benchmark: latest results\n\n"
        "Written by `make bench` (see docs/benchmark.md for what is measured and how).\n\n"
        + "\n".join(sections)
    )
    written.append(latest)
    return written


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
    for path in write_results(results, arguments.results):
        print(f"[bench] wrote {path}")
    succeeded = all(
        run["success"] for result in results for run in (result["full"], result["incremental"])
    )
    return 0 if succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
