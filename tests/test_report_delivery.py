"""Report partitions rendered from a real snapshot into the archive and e-mailed to a real SMTP
server on 127.0.0.1: recipients, subjects per language, attachments, retries, and the rule that
nothing half-made is ever sent."""

from __future__ import annotations

import datetime as dt
import email
import io
import json
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import openpyxl
import pytest
from aiosmtpd.controller import Controller

from maglumat.languages import LANGUAGES
from maglumat.settings import MaglumatPaths
from pipelines.reporting.archive import MANIFEST, ReportArchiveError, load_archived
from pipelines.reporting.assets import REPORT_KEYS, build_report_assets
from pipelines.reporting.delivery import DELIVERY_LOG, deliver
from pipelines.reporting.mail import SUBJECTS, SmtpSettings
from pipelines.reporting.periods import DAILY, MONTHLY, REPORT_KINDS, WEEKLY, ministry_ids
from pipelines.reporting.recipients import RECIPIENTS_FILE, load_recipients
from pipelines.reporting.snapshots import snapshot_for_period
from pipelines.resources import MaglumatResource, ReportDeliveryResource
from warehouse.snapshot import current_snapshot

pytestmark = pytest.mark.slow
SENDER = "reports@maglumat.example.tm"
FAILED, RETRIED = dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_UP_FOR_RETRY
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


@pytest.fixture(scope="module")
def smtp_servers() -> Iterator[Any]:
    """Starts real SMTP servers on 127.0.0.1; each call returns (mailbox, port)."""
    controllers: list[Controller] = []

    def start(refusals: int = 0) -> tuple[Mailbox, int]:
        mailbox = Mailbox(refusals=refusals)
        controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
        controller.start()
        controllers.append(controller)
        return mailbox, controller.port

    yield start
    for controller in controllers:
        controller.stop()


def _home_with_snapshots(source: MaglumatPaths, home: Path) -> MaglumatPaths:
    """A writable deployment holding a copy of ``source``'s published snapshots only."""
    shutil.copytree(source.snapshots, home / "snapshots", symlinks=True)
    paths = MaglumatPaths(home=home.resolve())
    paths.reports.mkdir(parents=True)
    return paths


def _delivery(port: int, attempts: int = 3) -> ReportDeliveryResource:
    return ReportDeliveryResource(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        sender=SENDER,
        send_attempts=attempts,
        retry_backoff_seconds=0.05,
    )


def _materialize(
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


def _error_text(error: Any) -> str:
    """An error event's message with the messages of its causes (the asset's own error)."""
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    return "\n".join(messages)


def _failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """Step failures and retries of the run, each with the error that caused it."""
    return [
        _error_text(event.event_specific_data.error)
        for event in result.all_events
        if event.event_type in (FAILED, RETRIED)
    ]


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
    paths = _home_with_snapshots(all_sectors, tmp_path_factory.mktemp("reports") / "maglumat")
    mailbox, port = smtp_servers()
    results = {
        DAILY: _materialize(paths, DAILY, "2023-09-30", _delivery(port)),
        WEEKLY: _materialize(paths, WEEKLY, WEEKLY_KEY, _delivery(port)),
        MONTHLY: _materialize(paths, MONTHLY, "2023-09-01", _delivery(port)),
    }
    for kind, result in results.items():
        assert result.success, (kind, _failure_messages(result))
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


def test_smtp_settings_come_from_the_environment_and_hide_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAGLUMAT_SMTP_HOST", "smtp.example.tm")
    monkeypatch.setenv("MAGLUMAT_SMTP_PORT", "2525")
    monkeypatch.setenv("MAGLUMAT_SMTP_USER", "reports")
    monkeypatch.setenv("MAGLUMAT_SMTP_PASSWORD", "s3cret-from-the-vault")
    monkeypatch.setenv("MAGLUMAT_SMTP_STARTTLS", "false")
    monkeypatch.setenv("MAGLUMAT_REPORT_SENDER", "maglumat@cabinet.example.tm")
    resource = ReportDeliveryResource()
    settings = resource.smtp_settings()
    assert settings is not None
    assert (settings.host, settings.port, settings.user, settings.starttls) == (
        "smtp.example.tm",
        2525,
        "reports",
        False,
    )
    assert settings.sender == "maglumat@cabinet.example.tm"
    assert settings.password == "s3cret-from-the-vault"
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in repr(resource)


def test_the_shipped_recipients_are_valid_and_use_example_addresses_only() -> None:
    book = load_recipients(RECIPIENTS_FILE)
    assert book.recipients(DAILY, None, "tk")
    assert {scope for kind, scope, _ in book.addresses if kind == WEEKLY} == set(ministry_ids())
    for addresses in book.addresses.values():
        for address in addresses:
            assert address.split("@")[1].endswith("example.tm"), address


def test_a_bad_recipients_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "recipients.yml"
    bad.write_text("weekly_ministry:\n  treasury:\n    tk: [a@b.example.tm]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown ministry 'treasury'"):
        load_recipients(bad)
    bad.write_text("daily_campaign:\n  de: [a@b.example.tm]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown languages"):
        load_recipients(bad)
    bad.write_text("daily_campaign:\n  tk: [not-an-address]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not an e-mail address"):
        load_recipients(bad)


def _fake_snapshot(paths: MaglumatPaths, snapshot_id: str, published_at: str) -> None:
    folder = paths.snapshots / snapshot_id
    folder.mkdir(parents=True)
    (folder / "snapshot.json").write_text(
        json.dumps({"snapshot_id": snapshot_id, "published_at": published_at}), encoding="utf-8"
    )


def test_a_period_is_read_from_the_snapshot_current_at_its_end(tmp_path: Path) -> None:
    paths = MaglumatPaths(home=tmp_path)
    _fake_snapshot(paths, "20230930T070000000000Z", "2023-09-30T07:00:00+00:00")
    # 1 October 21:30 UTC is already 2 October in Aşgabat: past a day of grace for 30 September.
    _fake_snapshot(paths, "20231001T213000000000Z", "2023-10-01T21:30:00+00:00")
    _fake_snapshot(paths, "20231009T060000000000Z", "2023-10-09T06:00:00+00:00")
    (paths.snapshots / "current").symlink_to("20231009T060000000000Z")

    september = snapshot_for_period(paths, dt.date(2023, 9, 30))
    assert september.snapshot.snapshot_id == "20230930T070000000000Z"
    week_40 = snapshot_for_period(paths, dt.date(2023, 10, 8))
    assert week_40.snapshot.snapshot_id == "20231009T060000000000Z"  # published the day after
    assert "latest on or before 2023-10-09" in week_40.reason
    august = snapshot_for_period(paths, dt.date(2023, 8, 31))  # older than any kept snapshot
    assert august.snapshot.snapshot_id == "20231009T060000000000Z"
    assert "current snapshot" in august.reason
