"""Delivery of rendered reports: the archive tree, e-mail through SMTP, and the delivery log.

Archive layout (one folder per report, period, scope and language)::

    <MAGLUMAT_HOME>/reports/archive/<kind>/<period>/<language>/            # daily, monthly
    <MAGLUMAT_HOME>/reports/archive/<kind>/<period>/<ministry>/<language>/ # weekly
    <MAGLUMAT_HOME>/reports/archive/<kind>/<period>/.../report.json        # written last
    <MAGLUMAT_HOME>/reports/archive/delivery_log.jsonl                     # what was e-mailed

A report is rendered into a hidden folder beside its place, checked (HTML, PDF and XLSX all
present), described by ``report.json`` (files and checksums, snapshot, run) and only then
renamed into place. Only a folder with a manifest whose checksums match is ever attached to an
e-mail, so a half-made report is never sent. Every message that the SMTP server accepted is
appended to the delivery log, and a recipient found there for the same report, period, scope
and language is not sent it again (a retried run resumes where the failed one stopped).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

import yaml

from maglumat import clock
from maglumat.languages import LANGUAGES
from pipelines.reporting.periods import REPORT_KINDS, WEEKLY, ReportPeriod, ministry_ids

RECIPIENTS_FILE = Path(__file__).with_name("recipients.yml")
MANIFEST = "report.json"
DELIVERY_LOG = "delivery_log.jsonl"

SUBJECTS = {
    "tk": "Maglumat hasabaty: {title} ({period})",
    "ru": "Отчёт Maglumat: {title} ({period})",
    "en": "Maglumat report: {title} ({period})",
}
BODIES = {
    "tk": (
        "Hormatly okyjy,\n\n«{title}» hasabaty goşundyda: PDF we Excel faýllary.\n"
        "Maglumatlar {published} senesinde çap edilen ýagdaýa görä.\n\nMaglumat"
    ),
    "ru": (
        "Уважаемый получатель!\n\nВо вложении отчёт «{title}»: файлы PDF и Excel.\n"
        "Данные по состоянию публикации от {published}.\n\nMaglumat"
    ),
    "en": (
        "Dear reader,\n\nThe report “{title}” is attached as PDF and Excel files.\n"
        "The figures are those published on {published}.\n\nMaglumat"
    ),
}
ATTACHED_SUFFIXES = {
    ".pdf": ("application", "pdf"),
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


class ReportArchiveError(RuntimeError):
    """A report folder is missing files or its files do not match their manifest."""


class ReportRenderError(RuntimeError):
    """Rendering one report (kind, period, scope, language) failed."""


class ReportDeliveryError(RuntimeError):
    """A report could not be delivered to a recipient, after the retries."""


class Logger(Protocol):
    def info(self, msg: str) -> Any: ...
    def warning(self, msg: str) -> Any: ...


class Rendered(Protocol):
    """What the renderer returns (``warehouse.reports.render.RenderedReport``)."""

    title: str
    html_path: Path
    pdf_path: Path
    xlsx_path: Path


# --- recipients ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientBook:
    """Recipients by (report kind, ministry or None, language)."""

    addresses: dict[tuple[str, str | None, str], tuple[str, ...]]

    def recipients(self, kind: str, scope: str | None, language: str) -> tuple[str, ...]:
        return self.addresses.get((kind, scope, language), ())


def _addresses(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{where}: expected a list of e-mail addresses")
    for address in value:
        local, at, domain = address.partition("@")
        if not (local and at and "." in domain) or " " in address:
            raise ValueError(f"{where}: {address!r} is not an e-mail address")
    return tuple(value)


def _by_language(section: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(section, dict):
        raise ValueError(f"{where}: expected languages ({', '.join(LANGUAGES)})")
    unknown = set(section) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"{where}: unknown languages {sorted(unknown)}")
    return {lang: _addresses(value, f"{where}.{lang}") for lang, value in section.items()}


def load_recipients(path: Path = RECIPIENTS_FILE) -> RecipientBook:
    """Read and check the recipients file (see ``recipients.yml`` for its shape)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(document) - set(REPORT_KINDS)
    if unknown:
        raise ValueError(f"{path}: unknown reports {sorted(unknown)}")
    addresses: dict[tuple[str, str | None, str], tuple[str, ...]] = {}
    for kind, section in document.items():
        if kind == WEEKLY:
            if not isinstance(section, dict):
                raise ValueError(f"{path}: {kind}: expected ministries")
            for ministry, languages in section.items():
                if ministry not in ministry_ids():
                    raise ValueError(f"{path}: {kind}: unknown ministry {ministry!r}")
                for language, values in _by_language(languages, f"{kind}.{ministry}").items():
                    addresses[(kind, ministry, language)] = values
        else:
            for language, values in _by_language(section, kind).items():
                addresses[(kind, None, language)] = values
    return RecipientBook(addresses)


# --- archive ------------------------------------------------------------------------------


def archive_root(reports_dir: Path) -> Path:
    return reports_dir / "archive"


def archive_folder(
    reports_dir: Path, period: ReportPeriod, scope: str | None, language: str
) -> Path:
    folder = archive_root(reports_dir) / period.kind / period.label
    return (folder / scope if scope else folder) / language


@dataclass(frozen=True)
class ArchivedReport:
    """A complete report in the archive, as its manifest describes it."""

    folder: Path
    kind: str
    period: str
    period_start: str
    period_end: str
    scope: str | None
    language: str
    title: str
    snapshot_id: str
    run_id: str
    rendered_at: str
    files: dict[str, str]  # name -> sha256
    html: str
    pdf: str
    xlsx: str

    @property
    def name(self) -> str:
        """Report, period, ministry and language: how failures and logs name it."""
        scope = f" for {self.scope}" if self.scope else ""
        return f"{self.kind} {self.period}{scope} in {self.language}"

    @property
    def attachments(self) -> list[Path]:
        return [self.folder / self.pdf, self.folder / self.xlsx]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_archived(folder: Path) -> ArchivedReport | None:
    """The report archived in ``folder``; None when there is none (no manifest).

    Raises ReportArchiveError when a file the manifest lists is missing or has changed.
    """
    manifest = folder / MANIFEST
    if not manifest.exists():
        return None
    report = ArchivedReport(folder=folder, **json.loads(manifest.read_text(encoding="utf-8")))
    for name, checksum in report.files.items():
        path = folder / name
        if not path.is_file() or _sha256(path) != checksum:
            raise ReportArchiveError(f"{report.name}: {path} is missing or changed")
    return report


def _remove_empty_folders(folder: Path, stop_above: str) -> None:
    """Remove ``folder`` and its parents while empty, up to the one named ``stop_above``."""
    for candidate in [folder, *folder.parents]:
        if candidate.exists() and any(candidate.iterdir()):
            return
        if candidate.exists():
            candidate.rmdir()
        if candidate.name == stop_above:
            return


def render_into_archive(
    folder: Path,
    period: ReportPeriod,
    scope: str | None,
    language: str,
    render: Callable[[Path], Rendered | None],
    snapshot_id: str,
    run_id: str,
) -> ArchivedReport | None:
    """Render a report with ``render(out_dir)`` and move it into ``folder`` once complete.

    Returns None when the renderer has nothing to report for the period (no folder is made).
    """
    staging = folder.with_name(f".{folder.name}.{run_id}.rendering")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    name = f"{period.kind} {period.label}{f' for {scope}' if scope else ''} in {language}"
    try:
        try:
            rendered = render(staging)
        except Exception as error:
            raise ReportRenderError(f"rendering {name} failed: {error}") from error
        if rendered is None:
            shutil.rmtree(staging, ignore_errors=True)
            _remove_empty_folders(staging.parent, stop_above=period.kind)
            return None
        made = {"html": rendered.html_path, "pdf": rendered.pdf_path, "xlsx": rendered.xlsx_path}
        for kind_of_file, path in made.items():
            if not path.is_file() or path.stat().st_size == 0:
                raise ReportRenderError(f"rendering {name} left no {kind_of_file} file ({path})")
        files = {
            str(path.relative_to(staging)): _sha256(path)
            for path in sorted(staging.iterdir())
            if path.is_file() and not path.name.startswith(".")
        }
        manifest = {
            "kind": period.kind,
            "period": period.label,
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "scope": scope,
            "language": language,
            "title": rendered.title,
            "snapshot_id": snapshot_id,
            "run_id": run_id,
            "rendered_at": clock.now().isoformat(),
            "files": files,
            **{key: str(path.relative_to(staging)) for key, path in made.items()},
        }
        (staging / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        # Swap the complete folder into place; an earlier rendering is moved aside first.
        replaced = folder.with_name(f".{folder.name}.{run_id}.replaced")
        if folder.exists():
            shutil.rmtree(replaced, ignore_errors=True)
            folder.rename(replaced)
        staging.rename(folder)
        shutil.rmtree(replaced, ignore_errors=True)
        return load_archived(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --- e-mail -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server. The password is never printed."""

    host: str
    port: int
    sender: str
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = True
    attempts: int = 3
    backoff_seconds: float = 2.0
    timeout_seconds: float = 30.0


def compose(report: ArchivedReport, recipient: str, sender: str, published_at: str) -> EmailMessage:
    """The e-mail for one recipient: subject and text in the report's language, the archived
    PDF and XLSX attached."""
    message = EmailMessage()
    message["Subject"] = SUBJECTS[report.language].format(
        title=report.title,
        period=f"{report.period}, {report.scope}" if report.scope else report.period,
    )
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain=sender.partition("@")[2] or None)
    message.set_content(
        BODIES[report.language].format(title=report.title, published=published_at[:10])
    )
    for path in report.attachments:
        maintype, subtype = ATTACHED_SUFFIXES[path.suffix]
        message.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    message["Content-Language"] = report.language  # set last: set_content drops Content-*
    return message


def _is_transient(error: Exception) -> bool:
    """4xx replies, refused connections and dropped sessions are worth another attempt; other
    SMTP errors (no STARTTLS, authentication refused ...) will not mend by waiting."""
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPException):
        return False
    return isinstance(error, OSError)


def send_with_retry(settings: SmtpSettings, message: EmailMessage, log: Logger) -> int:
    """Send ``message``, retrying transient failures with exponential backoff.

    Returns the number of attempts it took; raises the last error when they are exhausted or
    the server refused for good (5xx).
    """
    for attempt in range(1, settings.attempts + 1):
        try:
            with smtplib.SMTP(
                settings.host, settings.port, timeout=settings.timeout_seconds
            ) as smtp:
                if settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.user:
                    smtp.login(settings.user, settings.password)
                smtp.send_message(message)
            return attempt
        except (smtplib.SMTPException, OSError) as error:
            if not _is_transient(error) or attempt == settings.attempts:
                raise
            delay = settings.backoff_seconds * 2 ** (attempt - 1)
            log.warning(
                f"SMTP attempt {attempt} of {settings.attempts} to {message['To']} failed"
                f" ({error}); retrying in {delay:g} s"
            )
            time.sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises


# --- delivery log -------------------------------------------------------------------------


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
