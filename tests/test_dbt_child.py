"""dbt dies with the run that started it: a killed pipeline leaves no dbt writing on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths
from pipelines.assets.transform import dbt_executable

# A parent that starts dbt as the pipeline does (through dbt_executable) and waits for it.
PARENT = """
import subprocess, sys
from pipelines.assets.transform import dbt_executable
child = subprocess.Popen([dbt_executable(), "parse", "--no-partial-parse", *sys.argv[1:]])
print(child.pid, flush=True)
child.wait()
"""


def _command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except FileNotFoundError:
        return []


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" not in status.read_text()  # a zombie has stopped running
    except FileNotFoundError:
        return False


def _within(seconds: float, condition: object) -> bool:
    """Whether ``condition()`` holds within ``seconds`` (a bounded wait, no date involved)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_the_pipeline_starts_dbt_through_the_guard() -> None:
    assert Path(dbt_executable()).name == "maglumat-dbt"


def test_dbt_is_killed_with_the_process_that_started_it(
    maglumat_home: MaglumatPaths, tmp_path: Path
) -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            PARENT,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "MAGLUMAT_HOME": str(maglumat_home.home)},
    )
    assert parent.stdout is not None
    dbt = int(parent.stdout.readline())
    try:
        # The guard has become dbt itself (same process, dbt's command line).
        assert _within(30, lambda: any(p.endswith("/dbt") for p in _command_line(dbt)))
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        # dbt parses this project for several seconds: killed with its parent, it is gone at once.
        assert _within(3, lambda: not _alive(dbt)), "dbt outlived the killed run"
    finally:
        if _alive(dbt):
            os.kill(dbt, signal.SIGKILL)
