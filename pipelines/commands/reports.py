"""``maglumat report``: render a past period's report into the archive, and the demo's reports."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Sequence
from typing import Any

from pipelines import cli_arguments as arguments_of
from pipelines.cli_arguments import UsageError
from pipelines.commands.home import (
    dagster_home,
    existing_home_paths,
    home_paths,
    progress_config,
    relative,
)


def render_reports(
    kind: str,
    period_day: dt.date,
    languages: Sequence[str] | None = None,
    ministries: Sequence[str] | None = None,
    deliver: bool = False,
) -> int:
    """Render (again) the report of ``kind`` for the period containing ``period_day`` into the
    archive, in every language (or ``languages``); e-mail it only with ``deliver``. 0 when all
    went well."""
    import dagster as dg

    from maglumat import clock
    from maglumat.languages import LANGUAGES
    from pipelines.definitions import build_definitions
    from pipelines.progress import elapsed_since, new_log_path, quiet_run
    from pipelines.reporting.assets import REPORT_KEYS, report_job_name
    from pipelines.reporting.periods import (
        FIRST_DAY,
        FIRST_MONDAY,
        WEEKLY,
        ministry_ids,
        partition_key_for,
        partitions_for,
        period_containing,
    )

    if ministries and kind != WEEKLY:
        raise UsageError(f"--ministry: only the weekly_ministry report is per ministry, not {kind}")
    chosen = [
        arguments_of.one_of(ministry, list(ministry_ids()), "ministry", "--ministry")
        for ministry in ministries or ()
    ]
    period = period_containing(kind, period_day)
    partitions = partitions_for(kind)
    keys = (
        [partition_key_for(period, ministry) for ministry in chosen or ministry_ids()]
        if kind == WEEKLY
        else [partition_key_for(period)]
    )
    if not partitions.has_partition_key(keys[0]):
        first = period_containing(kind, FIRST_DAY if kind != WEEKLY else FIRST_MONDAY)
        raise UsageError(
            f"--period {period_day}: no {kind} report covers it; its periods run from"
            f" {first.label} to the latest one complete ({latest_label(kind, partitions)})"
        )
    paths = existing_home_paths()
    dagster_home(paths)
    job = build_definitions().resolve_job_def(report_job_name(kind))
    log_path = new_log_path(paths.home / "logs", clock.now())
    run_config = {
        "ops": {
            REPORT_KEYS[kind].to_python_identifier(): {
                "config": {"languages": list(languages or LANGUAGES), "deliver": deliver}
            }
        },
        **progress_config(log_path, 1),
    }
    failures, started = 0, time.perf_counter()
    with quiet_run(log_path), dg.DagsterInstance.get() as instance:
        for key in keys:
            result = job.execute_in_process(
                instance=instance, partition_key=key, run_config=run_config, raise_on_error=False
            )
            if result.success:
                continue
            failures += 1
            for event in result.all_events:
                if event.is_step_failure:
                    message = event.event_specific_data.error.message
                    print(f"[report] {kind} {period.label} ({key}): {message}", file=sys.stderr)
    done = len(keys) - failures
    scope = f"{done} of {len(keys)} ministries" if kind == WEEKLY else "rendered"
    print(
        f"[report] {kind} {period.label}: {scope}, {len(languages or LANGUAGES)} languages"
        f" ({elapsed_since(started)}); log: {relative(log_path)}"
    )
    return 1 if failures else 0


def latest_label(kind: str, partitions: Any) -> str:
    from pipelines.reporting.periods import period_of_partition

    last = partitions.get_last_partition_key()
    return period_of_partition(kind, last)[0].label if last else "none yet"


def demo_reports(as_of: dt.datetime) -> int:
    """The demo's reports: the daily one for the latest reported day, the weekly ones for the
    latest complete ISO week and the monthly one for the latest complete month."""
    from maglumat import clock
    from pipelines.reporting.periods import (
        DAILY,
        MONTHLY,
        WEEKLY,
        latest_complete_period,
    )
    from warehouse.snapshot import open_current

    today = clock.local_date(as_of)
    connection = open_current(home_paths())
    try:
        row = connection.execute(
            "select max(report_date) from indicators.ind_campaign_progress"
        ).fetchone()
    finally:
        connection.close()
    latest_day = row[0] if row and row[0] else latest_complete_period(DAILY, today).start
    status = 0
    for kind, day in (
        (DAILY, latest_day),
        (WEEKLY, latest_complete_period(WEEKLY, today).start),
        (MONTHLY, latest_complete_period(MONTHLY, today).start),
    ):
        status |= render_reports(kind, day)
    return status
