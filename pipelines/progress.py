"""What ``maglumat run`` and ``make demo`` show: one line per stage with counts and times, a
progress line on a terminal, warnings and errors in full, and a closing summary; everything
else (Dagster's event log, dbt's output) goes to a log file under the home, named at the end.

The Dagster logger ``progress`` (configured only by the command line; the UI and the daemon
keep Dagster's console logger) writes every record to the file and the few that matter to the
terminal. The stage lines are made from the run's events when it ends.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import dagster as dg

DBT_PROGRESS = "dbt progress:"  # as pipelines/assets/transform.py logs it

# Step keys start with the first part of the asset key: the stage.
_STAGES = {
    "landing": "extract",
    "raw": "gate",
    "warehouse_models": "dbt",
    "snapshot": "publish",
    "serving": "serve",
}
PROGRESS_WIDTH = 110  # characters of the progress line
# Warnings of the libraries that say nothing to the reader of a green run.
_QUIET = ("Logging an `AssetObservation` instead of an `AssetCheckResult`",)


def stage_of(step_key: str | None) -> str:
    if not step_key:
        return "run"
    return _STAGES.get(step_key.split("__")[0], step_key.split("__")[0])


class _Terminal(logging.Handler):
    """Warnings and errors in full; on a terminal, a progress line of the steps done."""

    def __init__(self, stream: IO[str], total_steps: int) -> None:
        super().__init__(level=logging.DEBUG)
        self.stream = stream
        self.total = total_steps
        self.done = 0
        self.live = stream.isatty()
        self.shown = False

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {}) or {}
        event = meta.get("dagster_event")
        step = meta.get("step_key")
        message = str(meta.get("orig_message") or record.getMessage())
        if event is not None and event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            self.done += 1
            if self.live:
                self._progress(stage_of(step), step)
        elif self.live and message.startswith(DBT_PROGRESS):
            # dbt is one step: its own results move the line while it runs.
            self._progress("dbt", message.removeprefix(DBT_PROGRESS).strip() + " models and tests")
        if record.levelno < logging.WARNING:
            return
        if any(noise in message for noise in _QUIET):
            return
        self._clear()
        where = f" {step}" if step else ""
        level = "ERROR" if record.levelno >= logging.ERROR else "WARNING"
        print(f"[run] {level}{where}: {message}", file=self.stream, flush=True)

    def _progress(self, stage: str, step: str | None) -> None:
        width = 24
        filled = round(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        line = f"  [{bar}] {self.done}/{self.total} steps  {stage}: {step or ''}"
        self.stream.write("\r" + line[:PROGRESS_WIDTH].ljust(PROGRESS_WIDTH))
        self.stream.flush()
        self.shown = True

    def _clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * PROGRESS_WIDTH + "\r")
            self.shown = False


@dg.logger(
    config_schema={"log_file": str, "total_steps": int},
    description="The command line's logger: everything to a file, stage lines to the terminal.",
)
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    config = init_context.logger_config
    logger = logging.Logger("maglumat_run", level=logging.DEBUG)
    to_file = logging.FileHandler(config["log_file"], encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(to_file)
    logger.addHandler(_Terminal(_TERMINAL.stream, config["total_steps"]))
    return logger


class _TerminalStream:
    """The real terminal while the run's standard output goes to the log file."""

    stream: IO[str] = sys.stdout


_TERMINAL = _TerminalStream()


def new_log_path(logs: Path, now: dt.datetime) -> Path:
    logs.mkdir(parents=True, exist_ok=True)
    return logs / f"run-{now.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.log"


@contextlib.contextmanager
def quiet_run(log_path: Path) -> Iterator[IO[str]]:
    """Standard output (dbt's lines, a library's prints) and Python's log records go to the
    log file while the run lasts; yields the terminal."""
    terminal = sys.stdout
    _TERMINAL.stream = terminal
    root = logging.getLogger()
    with log_path.open("a", encoding="utf-8") as log_file:
        to_file = logging.StreamHandler(log_file)
        to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        saved_handlers, saved_level = root.handlers[:], root.level
        root.handlers, root.level = [to_file], logging.INFO
        try:
            with contextlib.redirect_stdout(log_file):
                yield terminal
        finally:
            root.handlers, root.level = saved_handlers, saved_level
            _TERMINAL.stream = sys.stdout
            if terminal.isatty():  # the progress line gives way to what follows
                terminal.write("\r" + " " * PROGRESS_WIDTH + "\r")
                terminal.flush()


@dataclass
class StageFigures:
    steps: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, value: Any) -> None:
        if isinstance(value, int):
            self.counts[name] = self.counts.get(name, 0) + value


def stage_figures(result: dg.ExecuteInProcessResult) -> dict[str, StageFigures]:
    """Steps, seconds and the counts the assets report, by stage, in the order they ran."""
    figures: dict[str, StageFigures] = {}
    for event in result.all_events:
        stage = stage_of(event.step_key)
        if event.event_type_value == "STEP_SUCCESS":
            figure = figures.setdefault(stage, StageFigures())
            figure.steps += 1
            figure.seconds += event.event_specific_data.duration_ms / 1000
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            figure = figures.setdefault(stage, StageFigures())
            metadata = event.event_specific_data.materialization.metadata
            if stage == "dbt":
                rebuilt = getattr(metadata.get("rebuilt"), "value", None)
                figure.add("models left alone" if rebuilt is False else "models built", 1)
                continue
            for name, value in metadata.items():
                figure.add(name, getattr(value, "value", value))
    return figures


def with_test_counts(
    figures: dict[str, StageFigures], counts: dict[str, int]
) -> dict[str, StageFigures]:
    """The dbt stage's figures with how its build's tests ended (``counts`` by dbt status, as
    ``audit.dbt_test_results`` keeps them: most tests are not Dagster checks)."""
    if "dbt" in figures:
        dbt = figures["dbt"].counts
        dbt["tests passed"] = counts.get("pass", 0)
        dbt["tests warned"] = counts.get("warn", 0)
        dbt["tests failed"] = counts.get("fail", 0) + counts.get("error", 0)
    return figures


def stage_lines(figures: dict[str, StageFigures]) -> list[str]:
    lines = []
    for stage, figure in figures.items():
        counts = figure.counts
        if stage == "extract":
            detail = f"{figure.steps} tables read, {counts.get('rows', 0):,} rows landed"
        elif stage == "gate":
            detail = (
                f"{counts.get('batches', 0)} batches: {counts.get('loaded_rows', 0):,} rows"
                f" loaded, {counts.get('quarantined_rows', 0):,} quarantined,"
                f" {counts.get('held_rows', 0):,} held"
            )
        elif stage == "dbt":
            detail = (
                f"{counts.get('models built', 0)} models built,"
                f" {counts.get('models left alone', 0)} left alone (unchanged sources)"
            )
            if "tests passed" in counts:
                detail += (
                    f"; {counts['tests passed']} tests passed"
                    + (f", {counts['tests warned']} warned" if counts["tests warned"] else "")
                    + (f", {counts['tests failed']} failed" if counts["tests failed"] else "")
                )
        else:
            detail = f"{figure.steps} step{'s' if figure.steps != 1 else ''}"
        lines.append(f"[run] {stage:<8} {detail}  ({_duration(figure.seconds)})")
    return lines


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def elapsed_since(started: float) -> str:
    return _duration(time.perf_counter() - started)
