"""E-mail of an archived report: the message in the report's language with its PDF and XLSX
attached, and sending it through SMTP with retries of transient failures."""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Protocol

from maglumat import clock
from pipelines.reporting.archive import ArchivedReport

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


class Logger(Protocol):
    def info(self, msg: str) -> Any: ...
    def warning(self, msg: str) -> Any: ...


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
