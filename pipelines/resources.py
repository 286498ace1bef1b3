"""Dagster resources shared by every asset."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from maglumat import clock
from maglumat.settings import MaglumatPaths
from pipelines.reporting.mail import SmtpSettings
from pipelines.reporting.recipients import RECIPIENTS_FILE, RecipientBook, load_recipients


class MaglumatResource(dg.ConfigurableResource):
    """The deployment Maglumat runs in: where its landing zone, warehouse and outputs live.

    Attributes:
        home: Root directory of the deployment's state. Empty means ``MAGLUMAT_HOME`` from the
            environment, or ``./var`` in the project.
        snapshot_retention_days: How many days of published snapshots to keep.
        clock: The instant the run judges at (freshness, the gate's ``today``/``now`` bounds),
            ISO 8601 with its offset; empty means the process clock (``maglumat.clock.now``:
            ``MAGLUMAT_CLOCK`` or the system's). Set it to replay a past day's judgements; the
            run's own stamps (batches, snapshots) still come from the process clock.
        dbt_full_build: Rebuild and test every dbt model even when its sources are unchanged
            since the last successful build (the default rebuilds only what changed).
    """

    home: str = ""
    snapshot_retention_days: int = 30
    clock: str = ""
    dbt_full_build: bool = False

    def now(self) -> dt.datetime:
        if not self.clock:
            return clock.now()
        return clock.parse_instant(self.clock, setting="the maglumat resource's clock")

    @property
    def paths(self) -> MaglumatPaths:
        if self.home:
            return MaglumatPaths(home=Path(self.home).resolve())
        return MaglumatPaths.from_env()

    def export_environment(self) -> None:
        """Make subprocesses (dbt) see the same deployment as this process."""
        os.environ["MAGLUMAT_HOME"] = str(self.paths.home)


class ReportDeliveryResource(dg.ConfigurableResource):
    """Where rendered reports go: the recipients file and the SMTP server.

    Every field left empty is taken from the environment when a report is delivered. Without an
    SMTP host reports are archived only (and the log says so). The password is read only from
    ``MAGLUMAT_SMTP_PASSWORD``, never from configuration, so it appears in no run config or log.

    Attributes:
        smtp_host: SMTP server; empty means ``MAGLUMAT_SMTP_HOST``.
        smtp_port: Its port; None means ``MAGLUMAT_SMTP_PORT``, else 587.
        smtp_user: Login; empty means ``MAGLUMAT_SMTP_USER`` (no login when both are empty).
        smtp_starttls: Upgrade the session with STARTTLS; None means ``MAGLUMAT_SMTP_STARTTLS``
            (``true``/``false``), else true.
        sender: The From address; empty means ``MAGLUMAT_REPORT_SENDER``.
        recipients_file: YAML of recipients per report, ministry and language; empty means
            ``MAGLUMAT_REPORT_RECIPIENTS``, else ``pipelines/reporting/recipients.yml``.
        send_attempts: Attempts per message before the delivery fails.
        retry_backoff_seconds: Wait before the second attempt; doubled after each failure.
    """

    smtp_host: str = ""
    smtp_port: int | None = None
    smtp_user: str = ""
    smtp_starttls: bool | None = None
    sender: str = ""
    recipients_file: str = ""
    send_attempts: int = 3
    retry_backoff_seconds: float = 5.0

    def smtp_settings(self) -> SmtpSettings | None:
        """The SMTP settings, or None when no server is configured (archive only)."""
        host = self.smtp_host or os.environ.get("MAGLUMAT_SMTP_HOST", "")
        if not host:
            return None
        starttls = self.smtp_starttls
        if starttls is None:
            flag = os.environ.get("MAGLUMAT_SMTP_STARTTLS", "true").strip().lower()
            starttls = flag not in ("false", "0", "no", "off")
        return SmtpSettings(
            host=host,
            port=self.smtp_port or int(os.environ.get("MAGLUMAT_SMTP_PORT") or 587),
            sender=self.sender
            or os.environ.get("MAGLUMAT_REPORT_SENDER", "reports@maglumat.example.tm"),
            user=self.smtp_user or os.environ.get("MAGLUMAT_SMTP_USER", ""),
            password=os.environ.get("MAGLUMAT_SMTP_PASSWORD", ""),
            starttls=starttls,
            attempts=max(1, self.send_attempts),
            backoff_seconds=self.retry_backoff_seconds,
        )

    def recipients(self) -> RecipientBook:
        path = self.recipients_file or os.environ.get("MAGLUMAT_REPORT_RECIPIENTS", "")
        return load_recipients(Path(path) if path else RECIPIENTS_FILE)
