"""The generic SQL extractor against real databases: SQLite and the local PostgreSQL."""

import datetime as dt

import pytest

from maglumat.catalogue import SourceTable, load_catalogue
from maglumat.settings import MaglumatPaths
from pipelines.extract.dbapi import SourceUnreachableError, redact
from pipelines.extract.sql import extract_table
from simulator import agriculture

REPORTS = next(s for s in load_catalogue() if s.name == "agriculture_campaign").table(
    "daily_reports"
)
FIRST = dt.datetime(2023, 6, 15, 6, tzinfo=dt.UTC)
SECOND = dt.datetime(2023, 6, 16, 6, tzinfo=dt.UTC)


def _incremental_reads(dsn: str) -> None:
    system = agriculture.generate()
    agriculture.write(dsn, system, FIRST)
    first = extract_table(dsn, REPORTS, None)
    expected_first = agriculture.visible_at(system, FIRST).daily_reports
    assert first.frame.height == len(expected_first)
    assert sorted(first.frame["report_id"].to_list()) == sorted(r.report_id for r in expected_first)
    assert first.cursor_to is not None

    nothing_new = extract_table(dsn, REPORTS, first.cursor_to)
    assert nothing_new.frame.height == 0

    agriculture.write(dsn, system, SECOND)
    second = extract_table(dsn, REPORTS, first.cursor_to)
    expected_ids = {r.report_id for r in agriculture.visible_at(system, SECOND).daily_reports} - {
        r.report_id for r in expected_first
    }
    assert set(second.frame["report_id"].to_list()) == expected_ids
    assert len(expected_ids) > 0


def test_sqlite_incremental_by_cursor(maglumat_home: MaglumatPaths) -> None:
    _incremental_reads(f"sqlite:///{maglumat_home.systems}/campaign.sqlite")


@pytest.mark.postgres
def test_postgresql_incremental_by_cursor(postgres_dsn: str) -> None:
    _incremental_reads(postgres_dsn)


@pytest.mark.postgres
def test_postgresql_types_are_native(postgres_dsn: str) -> None:
    agriculture.write(postgres_dsn, agriculture.generate(), FIRST)
    frame = extract_table(postgres_dsn, REPORTS, None).frame
    assert str(frame.schema["report_date"]) == "Date"
    assert str(frame.schema["submitted_at"]).startswith("Datetime")
    assert str(frame.schema["harvested_tonnes"]) == "Float64"


def test_refused_connection_is_a_clear_error() -> None:
    with pytest.raises(SourceUnreachableError, match=r"127\.0\.0\.1:9"):
        extract_table("postgresql://nobody:secret@127.0.0.1:9/none", REPORTS, None)


def test_passwords_never_reach_messages() -> None:
    assert (
        redact("postgresql://reader:s3cret@db:5432/agri") == "postgresql://reader:***@db:5432/agri"
    )
    with pytest.raises(SourceUnreachableError) as error:
        extract_table("postgresql://reader:s3cret@127.0.0.1:9/agri", REPORTS, None)
    assert "s3cret" not in str(error.value)


def test_full_tables_are_read_whole(maglumat_home: MaglumatPaths) -> None:
    dsn = f"sqlite:///{maglumat_home.systems}/campaign.sqlite"
    agriculture.write(dsn, agriculture.generate(), FIRST)
    farms = SourceTable(name="farms", business_key=("farm_id",), mode="full")
    assert extract_table(dsn, farms, "ignored").frame.height == len(agriculture.generate().farms)


def test_a_missing_sqlite_file_is_unreachable_not_created(maglumat_home: MaglumatPaths) -> None:
    missing = maglumat_home.systems / "not_there.sqlite"
    with pytest.raises(SourceUnreachableError):
        extract_table(f"sqlite:///{missing}", REPORTS, None)
    assert not missing.exists()
