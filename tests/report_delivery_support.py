"""Helpers of the report delivery tests: real SMTP servers on 127.0.0.1 (busy for a while if
asked), a writable deployment holding a copy of published snapshots, and one report partition
materialized by Dagster with delivery on, its failures read back with their causes."""

from __future__ import annotations

import contextlib
import email
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import dagster as dg
from aiosmtpd.controller import Controller

from maglumat.languages import LANGUAGES
from maglumat.settings import MaglumatPaths
from pipelines.reporting.assets import REPORT_KEYS, build_report_assets
from pipelines.resources import MaglumatResource, ReportDeliveryResource

SENDER = "reports@maglumat.example.tm"
FAILED, RETRIED = dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_UP_FOR_RETRY


@dataclass
class Mailbox:
    """An SMTP handler that keeps what it accepted and refuses the first ``refusals`` DATA
    commands with 451 (a server that is busy for a while)."""

    refusals: int = 0
    attempts: int = 0
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.attempts += 1
        if self.refusals > 0:
            self.refusals -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 2.0.0 Accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def smtp_servers_on_localhost() -> Iterator[Callable[..., tuple[Mailbox, int]]]:
    """Starts real SMTP servers on 127.0.0.1; each call returns (mailbox, port). All of them
    stop when the block ends."""
    controllers: list[Controller] = []

    def start(refusals: int = 0) -> tuple[Mailbox, int]:
        mailbox = Mailbox(refusals=refusals)
        controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
        controller.start()
        controllers.append(controller)
        return mailbox, controller.port

    try:
        yield start
    finally:
        for controller in controllers:
            controller.stop()


def home_with_snapshots(source: MaglumatPaths, home: Path) -> MaglumatPaths:
    """A writable deployment holding a copy of ``source``'s published snapshots only."""
    shutil.copytree(source.snapshots, home / "snapshots", symlinks=True)
    paths = MaglumatPaths(home=home.resolve())
    paths.reports.mkdir(parents=True)
    return paths


def delivery_resource(port: int, attempts: int = 3) -> ReportDeliveryResource:
    return ReportDeliveryResource(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        sender=SENDER,
        send_attempts=attempts,
        retry_backoff_seconds=0.05,
    )


def materialize_report(
    paths: MaglumatPaths,
    kind: str,
    partition_key: str,
    delivery: ReportDeliveryResource,
    languages: list[str] | None = None,
) -> dg.ExecuteInProcessResult:
    (asset,) = [
        asset
        for asset in build_report_assets(dg.RetryPolicy(max_retries=1, delay=0))
        if REPORT_KEYS[kind] in asset.keys
    ]
    config = {"languages": languages or list(LANGUAGES), "deliver": True}
    return dg.materialize(
        [asset],
        partition_key=partition_key,
        resources={"maglumat": MaglumatResource(home=str(paths.home)), "report_delivery": delivery},
        run_config={"ops": {REPORT_KEYS[kind].to_python_identifier(): {"config": config}}},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def error_text(error: Any) -> str:
    """An error event's message with the messages of its causes (the asset's own error)."""
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    return "\n".join(messages)


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """Step failures and retries of the run, each with the error that caused it."""
    return [
        error_text(event.event_specific_data.error)
        for event in result.all_events
        if event.event_type in (FAILED, RETRIED)
    ]
