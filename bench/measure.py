"""Measuring a run: peak memory of the process tree, and time spent in the pipeline's stages.

Memory: a thread samples the resident set of this process and all its descendants (dbt runs as
a subprocess) from ``/proc`` every 50 ms. Stages: the Dagster steps' start and end events give
the time of each step; inside the steps, the functions that land a batch, gate it and load it
are timed where ``pipelines.ingest`` calls them (the real functions, wrapped in a timer), which
splits extract from land and the gate from the raw load. Also here: the fixed overhead of a run
(imports, dbt parse, definitions), the indicator queries' latency on a snapshot, and the
machine the figures were taken on.
"""

from __future__ import annotations

import cProfile
import os
import platform
import pstats
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

GB = 1024**3


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        tree[parent].append(int(entry.name))
    return tree


def descendants(root: int | None = None) -> list[int]:
    """Every process started, directly or not, by ``root`` (default: this process)."""
    tree = _children()
    found, pending = [], list(tree.get(root or os.getpid(), []))
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(tree.get(pid, []))
    return found


def stop_leftovers() -> list[str]:
    """Terminate processes this run started and left behind (a dbt build whose Dagster step
    failed keeps running and holding the warehouse); returns their command lines."""
    stopped = []
    for pid in descendants():
        try:
            command = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
            if b"dbt" not in command:
                continue  # Python's own helpers (the multiprocessing resource tracker)
            os.kill(pid, signal.SIGTERM)
            stopped.append(command.decode(errors="replace").strip())
        except OSError:
            continue
    return stopped


def tree_rss_bytes(root: int | None = None) -> int:
    """Resident memory of a process and every descendant, in bytes."""
    root = root or os.getpid()
    tree = _children()
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            fields_ = (Path("/proc") / str(pid) / "statm").read_text().split()
            total += int(fields_[1]) * PAGE_SIZE
        except OSError:
            pass
        pending.extend(tree.get(pid, []))
    return total


class MemorySampler:
    """Samples the process tree's resident memory in the background; keeps (time, bytes)."""

    def __init__(self, interval_seconds: float = 0.05) -> None:
        self.interval = interval_seconds
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), tree_rss_bytes()))
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.time(), tree_rss_bytes()))

    def peak(self, start: float | None = None, end: float | None = None) -> int:
        inside = [
            rss
            for moment, rss in self.samples
            if (start is None or moment >= start) and (end is None or moment <= end)
        ]
        return max(inside, default=0)


@dataclass
class StageTimer:
    """Seconds and rows per inner stage, accumulated by the wrapped functions."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def wrap(self, stage: str, function: Callable, rows: Callable[[Any, Any], int]) -> Callable:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            result = function(*args, **kwargs)
            self.seconds[stage] += time.perf_counter() - started
            self.rows[stage] += rows((args, kwargs), result)
            return result

        return timed

    def reset(self) -> None:
        self.seconds.clear()
        self.rows.clear()


@contextmanager
def instrumented(timer: StageTimer) -> Iterator[StageTimer]:
    """Time landing, gating and loading where ``pipelines.ingest`` calls them."""
    import pipelines.ingest as ingest

    originals = {
        name: getattr(ingest, name)
        for name in (
            "land_batch",
            "validate_batch",
            "validate_batch_in_slices",
            "write_gate_report",
            "load_batch_slices",
        )
    }
    ingest.land_batch = timer.wrap(
        "land", originals["land_batch"], lambda _call, manifest: manifest.row_count
    )
    ingest.validate_batch = timer.wrap(
        "gate", originals["validate_batch"], lambda call, _result: call[0][1].height
    )
    ingest.validate_batch_in_slices = timer.wrap(
        "gate", originals["validate_batch_in_slices"], lambda call, _result: call[0][2]
    )
    ingest.write_gate_report = timer.wrap("gate", originals["write_gate_report"], lambda *_: 0)
    # A batch too large to hold is converted to the contract slice by slice inside the load.
    ingest.load_batch_slices = timer.wrap(
        "load", originals["load_batch_slices"], lambda _call, outcome: outcome.loaded_rows
    )
    try:
        yield timer
    finally:
        for name, function in originals.items():
            setattr(ingest, name, function)


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


def profile_summary(profiler: cProfile.Profile, path: Path) -> dict[str, Any]:
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


def snapshot_raw_rows(snapshot: Path) -> int:
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
    """Every indicator at country and province, every indicator of three enterprises and every
    wide mart, read from the snapshot."""
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
        # An enterprise's indicators: the enterprise mart is a view, judged when read.
        enterprises = connection.execute(
            "select enterprise_id, count(distinct indicator_id)"
            " from indicators.fct_enterprise_indicator_values"
            " group by 1 order by 2 desc, 1 limit 3"
        ).fetchall()
        for enterprise, _ in enterprises:
            queries.append(
                (
                    f"enterprise {enterprise}",
                    "select * from indicators.fct_enterprise_indicator_values"
                    " where enterprise_id = ?",
                    [enterprise],
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
