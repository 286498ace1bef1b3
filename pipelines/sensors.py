"""Sensors: runs started by what a sector system delivers, not by the clock.

``build_inbox_sensors`` makes one sensor per ``file_inbox`` system of the catalogue. Each tick it
lists the system's files waiting in the inbox (those matching a table's pattern and settled: see
``pipelines/extract/file_inbox.py``) and requests a run of the job when one is new. Its cursor is
the inbox as last seen, ``{file name: "<mtime ns>:<size>"}``, so the same files never trigger
twice, while a file copied in with an old modification time, or rewritten in place, still does.
The cursor holds only files still in the inbox: the run moves them out, so it stays small.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg

from maglumat.catalogue import SourceSystem
from pipelines.extract.file_inbox import InboxOptions, inbox_directory, pending_files
from pipelines.resources import MaglumatResource

INBOX_KIND = "file_inbox"


def inbox_state(inbox: Path, options: list[InboxOptions]) -> dict[str, str]:
    """The files waiting in ``inbox`` for any of the tables, as ``{name: "mtime_ns:size"}``."""
    state: dict[str, str] = {}
    for table_options in options:
        for path in pending_files(inbox, table_options):
            status = path.stat()
            state[path.name] = f"{status.st_mtime_ns}:{status.st_size}"
    return state


def _read_cursor(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        seen = json.loads(cursor)
    except json.JSONDecodeError:
        return {}  # a cursor from another version of this sensor: treat the inbox as new
    return seen if isinstance(seen, dict) else {}


def _inbox_sensor(
    system: SourceSystem,
    job_name: str,
    minimum_interval_seconds: int,
    default_status: dg.DefaultSensorStatus,
) -> dg.SensorDefinition:
    options = [InboxOptions.of(system, table) for table in system.tables]  # checked at load

    @dg.sensor(
        name=f"{system.name}__inbox_sensor",
        job_name=job_name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=(
            f"Starts {job_name} when {system.ministry} ({system.name}) drops new files into its "
            f"inbox (the directory in {system.connection_env})."
        ),
    )
    def inbox_sensor(
        context: dg.SensorEvaluationContext, maglumat: MaglumatResource
    ) -> dg.SensorResult:
        inbox = inbox_directory(system.connection(maglumat.paths))
        if not inbox.is_dir():
            return dg.SensorResult(
                skip_reason=f"{system.name}: inbox {inbox} does not exist "
                f"(set {system.connection_env})",
                cursor=context.cursor,
            )
        current = inbox_state(inbox, options)
        seen = _read_cursor(context.cursor)
        new = {name: key for name, key in current.items() if seen.get(name) != key}
        cursor = json.dumps(current, sort_keys=True)
        if not new:
            return dg.SensorResult(
                skip_reason=f"{system.name}: no new files in {inbox}", cursor=cursor
            )
        names = sorted(new)
        context.log.info(f"{system.name}: {len(names)} new file(s) in {inbox}: {', '.join(names)}")
        digest = hashlib.sha256(json.dumps(new, sort_keys=True).encode()).hexdigest()[:16]
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"{system.name}:{digest}",
                    tags={
                        "maglumat/trigger": "inbox",
                        "maglumat/system": system.name,
                        "maglumat/new_files": str(len(names)),
                    },
                )
            ],
            cursor=cursor,
        )

    return inbox_sensor


def build_inbox_sensors(
    systems: list[SourceSystem],
    job_name: str,
    minimum_interval_seconds: int = 60,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> list[dg.SensorDefinition]:
    """One sensor per file inbox system, requesting a run of ``job_name`` for new files."""
    return [
        _inbox_sensor(system, job_name, minimum_interval_seconds, default_status)
        for system in systems
        if system.kind == INBOX_KIND
    ]
