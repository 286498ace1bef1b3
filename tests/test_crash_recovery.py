"""A run killed with SIGKILL (with all its children) during extract, the quality gate, dbt and
publishing, then run again, leaves the same ledger, raw tables and indicators as a run that was
never interrupted, and no dbt process behind.

The killed runs are real daily-job runs in their own process group, on the campaign database;
each is killed as soon as its stage shows on disk or in the process table (a landed batch, a
gate report, the dbt process, the temporary snapshot folder). The uninterrupted run is the
shared ``spine_run``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from simulator import agriculture
from tests.support import SPINE, failed_checks, run_daily_job

RUN = """
import sys
from maglumat.settings import MaglumatPaths
from tests.support import SPINE, run_daily_job
run_daily_job(MaglumatPaths(home=sys.argv[1]), SPINE)
"""


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def _command_lines(pids: list[int]) -> list[str]:
    lines = []
    for pid in pids:
        try:
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return lines


def _alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _count(folder: Path, pattern: str) -> int:
    return sum(1 for _ in folder.rglob(pattern)) if folder.exists() else 0


def _kill_when(paths: MaglumatPaths, reached: Callable[[int], bool]) -> bool:
    """Start a run and SIGKILL its whole process group as soon as ``reached(pid)``; whether it
    was killed (False: the run ended first). Afterwards no process of the run is left."""
    run = subprocess.Popen(
        [sys.executable, "-c", RUN, str(paths.home)],
        env={**os.environ, "MAGLUMAT_HOME": str(paths.home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    killed = False
    deadline = time.monotonic() + 600
    while run.poll() is None and time.monotonic() < deadline:
        if reached(run.pid):
            children = _descendants(run.pid)
            os.killpg(run.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.002)
    run.wait()
    if killed:
        # Nothing of the run goes on writing, dbt included.
        end = time.monotonic() + 10
        while any(_alive(child) for child in children) and time.monotonic() < end:
            time.sleep(0.05)
        assert not any(_alive(child) for child in children), _command_lines(children)
    return killed


def _state(paths: MaglumatPaths) -> dict[str, object]:
    """What an uninterrupted run is compared on: ledger totals, raw rows, indicators."""
    connection = duckdb.connect(str(paths.home / "snapshots" / "current" / "warehouse.duckdb"))
    try:
        ledger = connection.execute(
            "select system, table_name, status, sum(extracted_rows), sum(loaded_rows),"
            " sum(quarantined_rows), sum(held_rows) from audit.batches"
            " group by all order by all"
        ).fetchall()
        raw = {
            table: connection.execute(f'select count(*) from raw."{table}"').fetchone()
            for (table,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
                " and table_name like 'agriculture_campaign__%' order by 1"
            ).fetchall()
        }
        indicators = connection.execute(
            "select * exclude (data_through_date) from indicators.fct_indicator_values"
            " where indicator_id like 'agr_%' order by all"
        ).fetchall()
        progress = connection.execute(
            "select * from indicators.ind_campaign_progress order by all"
        ).fetchall()
    finally:
        connection.close()
    return {"ledger": ledger, "raw": raw, "indicators": indicators, "progress": progress}


def test_runs_killed_at_every_stage_then_run_again_give_the_uninterrupted_result(
    spine_run: MaglumatPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = MaglumatPaths(home=tmp_path / "maglumat")
    paths.ensure()
    monkeypatch.setenv("MAGLUMAT_HOME", str(paths.home))
    agriculture.write(
        f"sqlite:///{paths.systems}/agriculture_campaign.sqlite",
        agriculture.generate(),
        DEFAULT_AS_OF,
    )
    snapshots = paths.home / "snapshots"

    stages = {
        "extract": lambda _pid: _count(paths.landing, "*.parquet") > 0,
        "gate": lambda _pid: _count(paths.quality_results, "*.html") > 0,
        "dbt": lambda pid: any(
            "dbt" in line and " build" in line for line in _command_lines(_descendants(pid))
        ),
        "publish": lambda _pid: any(p.name.endswith(".tmp") for p in snapshots.glob(".*")),
    }
    hit = {stage: _kill_when(paths, reached) for stage, reached in stages.items()}
    # A publish copies the warehouse in well under a second: catch it on another try or two.
    for _ in range(2):
        if not hit["publish"]:
            hit["publish"] = _kill_when(paths, stages["publish"])
    assert hit == dict.fromkeys(stages, True)

    result = run_daily_job(paths, SPINE)

    assert result.success
    assert failed_checks(result) == []
    assert not list(snapshots.glob(".*.tmp")), "the debris of the killed publish was removed"
    assert _state(paths) == _state(spine_run)
