"""Delivery of archived reports by e-mail, and the delivery log that makes it resumable.

Only a folder with a manifest whose checksums match is ever attached to an e-mail, so a
half-made report is never sent. Every message that the SMTP server accepted is appended to the
delivery log (``<MAGLUMAT_HOME>/reports/archive/delivery_log.jsonl``), and a recipient found
there for the same report, period, scope and language is not sent it again (a retried run
resumes where the failed one stopped).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maglumat import clock
from pipelines.reporting.archive import ArchivedReport, ReportArchiveError, load_archived
from pipelines.reporting.mail import Logger, SmtpSettings, compose, send_with_retry

DELIVERY_LOG = "delivery_log.jsonl"


class ReportDeliveryError(RuntimeError):
    """A report could not be delivered to a recipient, after the retries."""


def _log_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry["report"], entry["period"], entry["scope"], entry["language"])


def delivered_recipients(log_path: Path, report: ArchivedReport) -> set[str]:
    """Recipients the delivery log says already received this report."""
    if not log_path.exists():
        return set()
    wanted = (report.kind, report.period, report.scope, report.language)
    entries = []
    with log_path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut short by a crash mid-append records no delivery
    return {entry["recipient"] for entry in entries if _log_key(entry) == wanted}


def record_delivery(log_path: Path, entry: dict[str, Any]) -> None:
    """Append one line to the delivery log (locked: runs of different reports share it)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class DeliveryOutcome:
    report: ArchivedReport
    sent: list[tuple[str, str]]  # (recipient, message id)
    already_delivered: list[str]
    archived_only: list[str]


def deliver(
    report: ArchivedReport,
    recipients: Sequence[str],
    settings: SmtpSettings | None,
    log_path: Path,
    published_at: str,
    log: Logger | None = None,
) -> DeliveryOutcome:
    """E-mail an archived report to each recipient who has not had it yet.

    Without SMTP settings the report stays in the archive only (and that is logged). Raises
    ReportDeliveryError naming the report and the recipient when a send fails for good.
    """
    log = log or logging.getLogger(__name__)
    checked = load_archived(report.folder)  # the files must still be those of the manifest
    if checked is None:
        raise ReportArchiveError(f"{report.name}: no complete report in {report.folder}")
    if settings is None:
        if recipients:
            log.info(
                f"{report.name}: archived in {report.folder}; MAGLUMAT_SMTP_HOST is not set, so"
                f" not e-mailed to {', '.join(recipients)}"
            )
        return DeliveryOutcome(report, [], [], list(recipients))
    already = delivered_recipients(log_path, report)
    sent: list[tuple[str, str]] = []
    for recipient in recipients:
        if recipient in already:
            log.info(f"{report.name}: {recipient} already has it (delivery log); not sent again")
            continue
        message = compose(checked, recipient, settings.sender, published_at)
        try:
            attempts = send_with_retry(settings, message, log)
        except (smtplib.SMTPException, OSError) as error:
            raise ReportDeliveryError(
                f"delivering {report.name} to {recipient} failed after retries: {error}"
            ) from error
        message_id = str(message["Message-ID"])
        record_delivery(
            log_path,
            {
                "report": report.kind,
                "period": report.period,
                "scope": report.scope,
                "language": report.language,
                "recipient": recipient,
                "message_id": message_id,
                "sent_at": clock.now().isoformat(),
                "attempts": attempts,
                "snapshot_id": report.snapshot_id,
                "files": [path.name for path in report.attachments],
            },
        )
        log.info(f"{report.name}: sent to {recipient} ({message_id})")
        sent.append((recipient, message_id))
    return DeliveryOutcome(report, sent, sorted(already & set(recipients)), [])
