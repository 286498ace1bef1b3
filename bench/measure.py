"""Measuring a run: peak memory of the process tree, and time spent in the pipeline's stages.

Memory: a thread samples the resident set of this process and all its descendants (dbt runs as
a subprocess) from ``/proc`` every 50 ms. Stages: the Dagster steps' start and end events give
the time of each step; inside the steps, the functions that land a batch, gate it and load it
are timed where ``pipelines.ingest`` calls them (the real functions, wrapped in a timer), which
splits extract from land and the gate from the raw load.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


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
