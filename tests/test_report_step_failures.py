"""The report step failing inside a real Dagster materialization, with a real SMTP server on
127.0.0.1: a server busy through all of the step's own send attempts fails the step, and
Dagster's retry delivers the report once; a snapshot that cannot be rendered fails the step and
its retry, and nothing is archived or sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from maglumat.settings import MaglumatPaths
from pipelines.reporting.archive import MANIFEST
from pipelines.reporting.delivery import DELIVERY_LOG
from pipelines.reporting.periods import DAILY, MONTHLY
from tests.report_delivery_support import RETRIED, smtp_servers_on_localhost
from tests.report_delivery_support import delivery_resource as _delivery
from tests.report_delivery_support import error_text as _error_text
from tests.report_delivery_support import failure_messages as _failure_messages
from tests.report_delivery_support import home_with_snapshots as _home_with_snapshots
from tests.report_delivery_support import materialize_report as _materialize
from warehouse.snapshot import current_snapshot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smtp_servers() -> Iterator[Any]:
    """Starts real SMTP servers on 127.0.0.1; each call returns (mailbox, port)."""
    with smtp_servers_on_localhost() as start:
        yield start


def test_a_failed_delivery_fails_the_step_which_dagster_retries(
    all_sectors: MaglumatPaths, smtp_servers: Any, tmp_path: Path
) -> None:
    paths = _home_with_snapshots(all_sectors, tmp_path / "maglumat")
    # Busy for all three attempts of the first try of the step, then accepting.
    mailbox, port = smtp_servers(refusals=3)

    result = _materialize(paths, MONTHLY, "2023-09-01", _delivery(port), languages=["en"])

    assert result.success
    (retried,) = [event for event in result.all_events if event.event_type == RETRIED]
    message = _error_text(retried.event_specific_data.error)
    assert "monthly_government 2023-09 in en to analyst@cabinet.example.tm" in message
    assert "451" in message
    assert mailbox.attempts == 4
    assert [envelope for envelope, _ in mailbox.received] == [["analyst@cabinet.example.tm"]]
    log = (paths.reports / "archive" / DELIVERY_LOG).read_text().splitlines()
    assert len(log) == 1


def test_a_render_failure_sends_nothing(
    all_sectors: MaglumatPaths, smtp_servers: Any, tmp_path: Path
) -> None:
    paths = _home_with_snapshots(all_sectors, tmp_path / "maglumat")
    # The current snapshot's database is damaged: an empty file in place of the warehouse.
    snapshot = current_snapshot(paths)
    assert snapshot is not None
    snapshot.path.parent.chmod(0o755)
    snapshot.path.unlink()
    duckdb.connect(str(snapshot.path)).close()
    mailbox, port = smtp_servers()

    result = _materialize(paths, DAILY, "2023-09-30", _delivery(port))

    assert not result.success
    messages = _failure_messages(result)
    assert len(messages) == 2  # the first try, retried once, failed again
    assert all("rendering daily_campaign 2023-09-30 in tk failed" in m for m in messages)
    assert mailbox.attempts == 0
    archive = paths.reports / "archive"
    assert not list(archive.rglob(MANIFEST)) if archive.exists() else True
    assert not (archive / DELIVERY_LOG).exists()
