"""The command line's terminal: a progress line of the steps done on a terminal, nothing of it
into a file or a pipe, and warnings in full but without a green run's library noise."""

from __future__ import annotations

import io
import logging
from types import SimpleNamespace

from pipelines.progress import _Terminal


class _Screen(io.StringIO):
    def isatty(self) -> bool:
        return True


def _record(level: int, message: str, event: str | None = None, step: str | None = None):
    record = logging.LogRecord("maglumat_run", level, __file__, 1, message, None, None)
    record.dagster_meta = {  # type: ignore[attr-defined]
        "dagster_event": SimpleNamespace(event_type_value=event) if event else None,
        "step_key": step,
        "orig_message": message,
    }
    return record


def test_a_terminal_sees_the_steps_done_and_warnings_in_full() -> None:
    screen = _Screen()
    terminal = _Terminal(screen, total_steps=4)
    terminal.emit(_record(logging.DEBUG, "done", "STEP_SUCCESS", "landing__fuel__daily"))
    terminal.emit(_record(logging.DEBUG, "done", "STEP_SUCCESS", "raw__fuel__daily"))
    assert "2/4 steps  gate: raw__fuel__daily" in screen.getvalue()
    assert "[############------------]" in screen.getvalue()
    terminal.emit(_record(logging.WARNING, "textile_mill_output: late since 8 Sep 18:00"))
    terminal.emit(
        _record(logging.WARNING, "Logging an `AssetObservation` instead of an `AssetCheckResult`")
    )
    assert "[run] WARNING: textile_mill_output: late since 8 Sep 18:00\n" in screen.getvalue()
    assert "AssetObservation" not in screen.getvalue()


def test_a_pipe_gets_no_progress_line() -> None:
    pipe = io.StringIO()
    terminal = _Terminal(pipe, total_steps=4)
    terminal.emit(_record(logging.DEBUG, "done", "STEP_SUCCESS", "landing__fuel__daily"))
    terminal.emit(_record(logging.ERROR, "extraction failed", step="landing__fuel__daily"))
    assert pipe.getvalue() == "[run] ERROR landing__fuel__daily: extraction failed\n"


def test_the_dbt_step_moves_the_line_while_it_runs() -> None:
    screen = _Screen()
    terminal = _Terminal(screen, total_steps=4)
    terminal.emit(_record(logging.DEBUG, "dbt progress: 120/663", step="warehouse_models"))
    assert "dbt: 120/663 models and tests" in screen.getvalue()
