"""No code reads the wall clock behind the clock's back.

Every reading of the current time that decides or stamps something goes through
``maglumat.clock`` (UTC instants, Aşgabat dates, ``MAGLUMAT_CLOCK``), and no dbt model or macro
reads the time at all: a model is a function of its sources. The few readings that must stay on
the operating system's clock (compared with something that clock stamped) are listed here, each
with its reason, so a new one is a decision made in review, not an accident.
"""

from __future__ import annotations

import re

from maglumat.settings import PROJECT_ROOT

PYTHON_DIRS = ("maglumat", "pipelines", "quality", "warehouse", "simulator", "tests")
THIS_FILE = "tests/test_clock_readings.py"  # its patterns are not readings
SQL_DIRS = ("dbt_project/models", "dbt_project/macros", "dbt_project/tests")
PYTHON_READINGS = re.compile(
    r"datetime\.now\(|datetime\.today\(|date\.today\(|utcnow\(|\btime\.time\(\)"
    r"|\btime\.localtime\(|(?<![\w.])now\(\)|(?<![\w.])current_(?:date|timestamp)\b"
)
SQL_READINGS = re.compile(
    r"(?<![\w.])now\(\)|(?<![\w.])current_(?:date|timestamp)\b|get_current_timestamp"
    r"|run_started_at"
    r"|modules\.datetime|localtimestamp",
    re.IGNORECASE,
)
# (file, the reading without its brackets) -> why it stays on the operating system's clock.
ALLOWED = {
    ("maglumat/clock.py", "datetime.now"): "the clock itself",
    ("maglumat/clock.py", "now"): "the clock's own API",
    ("pipelines/extract/file_inbox/files.py", "time.time"): "compared with a file's mtime",
}


def _readings(pattern: re.Pattern[str], directories: tuple[str, ...], suffix: str) -> set:
    found = set()
    for directory in directories:
        for path in sorted((PROJECT_ROOT / directory).rglob(f"*{suffix}")):
            relative = path.relative_to(PROJECT_ROOT).as_posix()
            if "/target/" in relative:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for match in pattern.finditer(line):
                    found.add((relative, match.group(0).rstrip("()"), number))
    return found


def test_python_reads_the_time_only_through_the_clock() -> None:
    readings = _readings(PYTHON_READINGS, PYTHON_DIRS, ".py")
    unexplained = sorted(
        f"{path}:{number}: {reading}"
        for path, reading, number in readings
        if (path, reading) not in ALLOWED and path != THIS_FILE
    )
    assert not unexplained, "read the time through maglumat.clock:\n" + "\n".join(unexplained)


def test_no_dbt_model_or_macro_reads_the_time() -> None:
    readings = sorted(
        f"{path}:{number}: {reading}"
        for path, reading, number in _readings(SQL_READINGS, SQL_DIRS, ".sql")
    )
    assert not readings, "a model is a function of its sources:\n" + "\n".join(readings)


def test_the_allowed_readings_are_still_there() -> None:
    """An entry of ALLOWED that no longer matches anything is stale: remove it."""
    readings = {
        (path, reading) for path, reading, _ in _readings(PYTHON_READINGS, PYTHON_DIRS, ".py")
    }
    stale = set(ALLOWED) - readings
    assert not stale, sorted(stale)
