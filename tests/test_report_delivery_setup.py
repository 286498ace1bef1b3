"""What report delivery is set up from: the SMTP settings in the environment (the password kept
out of sight), the recipients book (the shipped one, and a bad one refused with the reason), and
the snapshot a period's report is read from (the one current at the period's end)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from maglumat.settings import MaglumatPaths
from pipelines.reporting.periods import DAILY, WEEKLY, ministry_ids
from pipelines.reporting.recipients import RECIPIENTS_FILE, load_recipients
from pipelines.reporting.snapshots import snapshot_for_period
from pipelines.resources import ReportDeliveryResource

pytestmark = pytest.mark.slow


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
