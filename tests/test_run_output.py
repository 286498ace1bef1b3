"""What ``maglumat run`` prints: a line per stage with counts and times, warnings in full, the
closing line, and where the full log is; Dagster's event log and dbt's output go to that log."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import PROJECT_ROOT, MaglumatPaths
from simulator import agriculture
from tests.support import latest_build_tests

pytestmark = pytest.mark.slow


def test_a_run_prints_a_line_per_stage_and_keeps_the_full_log(
    spine_run_copy: MaglumatPaths,
) -> None:
    # The campaign system has a new day: the run lands it and dbt rebuilds what depends on it.
    agriculture.write(
        f"sqlite:///{spine_run_copy.systems}/agriculture_campaign.sqlite",
        agriculture.generate(),
        DEFAULT_AS_OF + dt.timedelta(days=1),
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={
            **os.environ,
            "MAGLUMAT_HOME": str(spine_run_copy.home),
            "DAGSTER_HOME": str(spine_run_copy.dagster_home),
        },
    )
    out = completed.stdout
    assert completed.returncode == 0, out[-3000:] + completed.stderr[-3000:]
    lines = out.strip().splitlines()
    stages = [line for line in lines if re.match(r"\[run\] (extract|gate|dbt|publish) +\d", line)]
    assert [line.split()[1] for line in stages] == ["extract", "gate", "dbt", "publish"]
    assert re.search(r"\[run\] extract +\d+ tables read, [\d,]+ rows landed +\([\d.]+ s\)", out)
    dbt_line = re.search(
        r"\[run\] dbt +[1-9]\d* models built, \d+ left alone .*; (\d+) tests passed", out
    )
    assert dbt_line, out
    # Every dbt test the build ran is counted, not only those that are Dagster checks.
    tested = latest_build_tests(spine_run_copy.warehouse)
    passed = sum(status == "pass" for _, _, status, _ in tested)
    assert int(dbt_line.group(1)) == passed
    assert passed > 10
    assert re.search(r"\[run\] run \S+ succeeded in ", out)
    # The other sectors' systems are not there in this home: each says so, once, in full.
    unreachable = [line for line in lines if line.startswith("[run] WARNING source_reachable")]
    assert unreachable
    # Nothing else: no dbt progress, no Dagster event lines, no banner.
    assert "START" not in out
    assert "STEP_SUCCESS" not in out
    assert "Telemetry" not in out
    assert all(line.startswith(("[run] ", "[prepare] ")) for line in lines), out
    (log_line,) = [line for line in lines if line.startswith("[run] full log: ")]
    log = Path(log_line.removeprefix("[run] full log: "))
    log = log if log.is_absolute() else PROJECT_ROOT / log
    text = log.read_text(encoding="utf-8")
    assert "STEP_SUCCESS" in text or "Finished execution of step" in text
    assert "PASS" in text  # dbt's own lines
    assert log.parent == spine_run_copy.home / "logs"
