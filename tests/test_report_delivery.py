"""Report partitions rendered from a real snapshot into the archive and e-mailed to a real SMTP
server on 127.0.0.1: the demo's three reports in three languages, the snapshot each names, its
recipients, subjects and text per language, attachments and the delivery log; and an archived
report sent again: once through a server busy for a while, never when incomplete, and not at
all without an SMTP host."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dagster as dg
import openpyxl
import pytest

from maglumat.languages import LANGUAGES
from maglumat.settings import MaglumatPaths
from pipelines.reporting.archive import MANIFEST, ReportArchiveError, load_archived
from pipelines.reporting.assets import REPORT_KEYS
from pipelines.reporting.delivery import DELIVERY_LOG, deliver
from pipelines.reporting.mail import SUBJECTS, SmtpSettings
from pipelines.reporting.periods import DAILY, MONTHLY, REPORT_KINDS, WEEKLY
from pipelines.resources import ReportDeliveryResource
from tests.report_delivery_support import (
    SENDER,
    Mailbox,
    delivery_resource,
    failure_messages,
    home_with_snapshots,
    materialize_report,
    smtp_servers_on_localhost,
)
from warehouse.snapshot import current_snapshot

pytestmark = pytest.mark.slow
WEEKLY_KEY = dg.MultiPartitionKey({"week": "2023-09-18", "ministry": "agriculture"})
# The demo's periods (as of 1 October 2023): what the shipped recipients.yml sends them to.
EXPECTED_RECIPIENTS = {
    (DAILY, "tk"): {"minister@minagri.example.tm", "campaigns@minagri.example.tm"},
    (DAILY, "ru"): {"deputy.chair.agriculture@cabinet.example.tm"},
    (DAILY, "en"): {"analyst@cabinet.example.tm"},
    (WEEKLY, "tk"): {"minister@minagri.example.tm"},
    (WEEKLY, "ru"): {"planning@minagri.example.tm"},
    (MONTHLY, "tk"): {"chairman@cabinet.example.tm", "office@cabinet.example.tm"},
    (MONTHLY, "ru"): {"deputy.chair.economy@cabinet.example.tm"},
    (MONTHLY, "en"): {"analyst@cabinet.example.tm"},
}


@pytest.fixture(scope="module")
def smtp_servers() -> Iterator[Any]:
    """Starts real SMTP servers on 127.0.0.1; each call returns (mailbox, port)."""
    with smtp_servers_on_localhost() as start:
        yield start


@dataclass(frozen=True)
class Delivered:
    paths: MaglumatPaths
    mailbox: Mailbox
    results: dict[str, dg.ExecuteInProcessResult]


@pytest.fixture(scope="module")
def delivered(
    all_sectors: MaglumatPaths, tmp_path_factory: pytest.TempPathFactory, smtp_servers: Any
) -> Delivered:
    """The demo's three reports (the weekly one for agriculture) rendered in three languages from
    the all-sector snapshot and delivered to the shipped recipients through a real SMTP server."""
    paths = home_with_snapshots(all_sectors, tmp_path_factory.mktemp("reports") / "maglumat")
    mailbox, port = smtp_servers()
    results = {
        DAILY: materialize_report(paths, DAILY, "2023-09-30", delivery_resource(port)),
        WEEKLY: materialize_report(paths, WEEKLY, WEEKLY_KEY, delivery_resource(port)),
        MONTHLY: materialize_report(paths, MONTHLY, "2023-09-01", delivery_resource(port)),
    }
    for kind, result in results.items():
        assert result.success, (kind, failure_messages(result))
    return Delivered(paths, mailbox, results)


def _archive(paths: MaglumatPaths) -> Path:
    return paths.reports / "archive"


FOLDERS = {
    DAILY: Path("daily_campaign/2023-09-30"),
    WEEKLY: Path("weekly_ministry/2023-W38/agriculture"),
    MONTHLY: Path("monthly_government/2023-09"),
}


def test_the_archive_holds_every_report_in_three_languages(delivered: Delivered) -> None:
    archive = _archive(delivered.paths)
    stems = {
        DAILY: "daily_campaign_2023-09-30",
        WEEKLY: "weekly_ministry_agriculture_2023-W38",
        MONTHLY: "monthly_government_2023-09",
    }
    for kind, folder in FOLDERS.items():
        for language in LANGUAGES:
            language_folder = archive / folder / language
            names = sorted(path.name for path in language_folder.iterdir())
            stem = f"{stems[kind]}_{language}"
            assert names == sorted([MANIFEST, f"{stem}.html", f"{stem}.pdf", f"{stem}.xlsx"])
            report = load_archived(language_folder)  # checksums verified
            assert report is not None
            assert (report.kind, report.language) == (kind, language)
            assert (language_folder / report.pdf).read_bytes().startswith(b"%PDF")
    # Nothing half-made is left behind, and nothing but the reports and the log is there.
    assert not [path for path in archive.rglob(".*")]
    assert sorted(path.name for path in archive.iterdir()) == sorted([DELIVERY_LOG, *REPORT_KINDS])


def test_reports_name_the_snapshot_they_were_read_from(delivered: Delivered) -> None:
    snapshot = current_snapshot(delivered.paths)
    assert snapshot is not None
    for kind, result in delivered.results.items():
        (materialization,) = result.asset_materializations_for_node(
            REPORT_KEYS[kind].to_python_identifier()
        )
        metadata = materialization.metadata
        assert metadata["snapshot_id"].value == snapshot.snapshot_id
        # Every snapshot of the run was published after the period ended (in 2023).
        assert "current snapshot" in metadata["snapshot_choice"].value
        assert metadata["rendered"].value is True
        for language in LANGUAGES:
            report = load_archived(_archive(delivered.paths) / FOLDERS[kind] / language)
            assert report is not None
            assert report.snapshot_id == snapshot.snapshot_id


def test_each_recipient_gets_the_report_in_their_language(delivered: Delivered) -> None:
    got: dict[tuple[str, str], set[str]] = {}
    for envelope_recipients, message in delivered.mailbox.received:
        assert message["From"] == SENDER
        assert envelope_recipients == [message["To"]]
        language = message["Content-Language"]
        kind = next(kind for kind in REPORT_KINDS if kind in str(_attachment_names(message)))
        got.setdefault((kind, language), set()).add(message["To"])
        report = load_archived(_archive(delivered.paths) / _folder_of(kind) / language)
        assert report is not None
        period = f"{report.period}, {report.scope}" if report.scope else report.period
        assert message["Subject"] == SUBJECTS[language].format(title=report.title, period=period)
    assert got == EXPECTED_RECIPIENTS
    assert len(delivered.mailbox.received) == sum(len(v) for v in EXPECTED_RECIPIENTS.values())
    assert all(
        address.endswith(".example.tm") for addresses in got.values() for address in addresses
    )


def test_subjects_and_text_are_in_the_recipients_language(delivered: Delivered) -> None:
    by_language = {
        message["Content-Language"]: message
        for _, message in delivered.mailbox.received
        if "monthly_government" in str(_attachment_names(message))
    }
    assert by_language["tk"]["Subject"].startswith("Maglumat hasabaty: ")
    assert by_language["ru"]["Subject"].startswith("Отчёт Maglumat: ")
    assert by_language["en"]["Subject"].startswith("Maglumat report: ")
    titles = {
        language: message["Subject"].split(": ", 1)[1] for language, message in by_language.items()
    }
    assert len(set(titles.values())) == 3, titles  # the title itself is translated
    assert "goşundyda" in by_language["tk"].get_body(("plain",)).get_content()
    assert "Во вложении" in by_language["ru"].get_body(("plain",)).get_content()
    assert "attached" in by_language["en"].get_body(("plain",)).get_content()


def _attachment_names(message: EmailMessage) -> list[str]:
    return sorted(part.get_filename() for part in message.iter_attachments())


def _folder_of(kind: str) -> Path:
    return FOLDERS[kind]


def test_attachments_are_the_archived_pdf_and_workbook(delivered: Delivered) -> None:
    for _, message in delivered.mailbox.received:
        language = message["Content-Language"]
        attachments = {part.get_filename(): part for part in message.iter_attachments()}
        kind = next(kind for kind in REPORT_KINDS if kind in str(list(attachments)))
        report = load_archived(_archive(delivered.paths) / _folder_of(kind) / language)
        assert report is not None
        assert sorted(attachments) == sorted([report.pdf, report.xlsx])
        assert report.pdf.endswith(f"_{language}.pdf")
        pdf = attachments[report.pdf].get_content()
        assert attachments[report.pdf].get_content_type() == "application/pdf"
        assert pdf.startswith(b"%PDF")
        assert pdf == (report.folder / report.pdf).read_bytes()
        workbook = openpyxl.load_workbook(io.BytesIO(attachments[report.xlsx].get_content()))
        assert workbook.sheetnames
        assert any(
            report.title in str(cell.value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(max_row=3)
            for cell in row
            if cell.value
        )


def test_the_delivery_log_records_every_message(delivered: Delivered) -> None:
    lines = (_archive(delivered.paths) / DELIVERY_LOG).read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]
    received_ids = {message["Message-ID"] for _, message in delivered.mailbox.received}
    assert {entry["message_id"] for entry in entries} == received_ids
    assert len(entries) == len(received_ids)
    periods = {(entry["report"], entry["period"], entry["scope"]) for entry in entries}
    assert periods == {
        (DAILY, "2023-09-30", None),
        (WEEKLY, "2023-W38", "agriculture"),
        (MONTHLY, "2023-09", None),
    }
    for entry in entries:
        assert entry["language"] in LANGUAGES
        assert dt.datetime.fromisoformat(entry["sent_at"]).tzinfo is not None


def test_a_flaky_smtp_server_is_retried_and_delivers_once(
    delivered: Delivered, smtp_servers: Any, tmp_path: Path
) -> None:
    mailbox, port = smtp_servers(refusals=1)
    report = load_archived(_archive(delivered.paths) / FOLDERS[DAILY] / "ru")
    assert report is not None
    settings = SmtpSettings(
        host="127.0.0.1", port=port, sender=SENDER, starttls=False, backoff_seconds=0.05
    )
    log_path = tmp_path / DELIVERY_LOG
    recipients = ["deputy.chair.agriculture@cabinet.example.tm"]

    outcome = deliver(report, recipients, settings, log_path, "2023-10-01T06:00:00+00:00")

    assert mailbox.attempts == 2  # refused once with 451, accepted the second time
    assert [envelope for envelope, _ in mailbox.received] == [recipients]
    (entry,) = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert entry["attempts"] == 2
    assert [message_id for _, message_id in outcome.sent] == [entry["message_id"]]

    # Delivering again (a retried run) does not send a second copy.
    again = deliver(report, recipients, settings, log_path, "2023-10-01T06:00:00+00:00")
    assert again.sent == []
    assert again.already_delivered == recipients
    assert len(mailbox.received) == 1


def test_an_incomplete_archived_report_is_never_sent(
    delivered: Delivered, smtp_servers: Any, tmp_path: Path
) -> None:
    mailbox, port = smtp_servers()
    folder = tmp_path / "en"
    shutil.copytree(_archive(delivered.paths) / FOLDERS[MONTHLY] / "en", folder)
    report = load_archived(folder)
    assert report is not None
    (folder / report.xlsx).unlink()
    settings = SmtpSettings(host="127.0.0.1", port=port, sender=SENDER, starttls=False)

    with pytest.raises(ReportArchiveError, match="monthly_government 2023-09 in en"):
        deliver(report, ["analyst@cabinet.example.tm"], settings, tmp_path / "log", "2023-10-01")
    assert mailbox.attempts == 0


def test_without_an_smtp_host_reports_are_archived_only(
    delivered: Delivered, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MAGLUMAT_SMTP_HOST", raising=False)
    assert ReportDeliveryResource().smtp_settings() is None
    report = load_archived(_archive(delivered.paths) / FOLDERS[DAILY] / "en")
    assert report is not None
    outcome = deliver(report, ["analyst@cabinet.example.tm"], None, tmp_path / "log", "2023-10-01")
    assert outcome.sent == []
    assert outcome.archived_only == ["analyst@cabinet.example.tm"]
    assert not (tmp_path / "log").exists()
