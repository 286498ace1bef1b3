"""What becomes of each file in the file inbox: one that cannot be read is rejected with its
reason and kept as it came; one landed before a crash is moved on the next run, not landed again;
a day sent again under the same name lands again and both files are kept; one still being
written waits until it has settled; and a catalogue whose tables would race for a file is
refused, naming the mistake.

The files are real, in the inbox of a temporary deployment; the catalogue entries are the real
ones (fuel and energy, chemical industry), from tests/sectors/inbox_support.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from maglumat.catalogue import CatalogueError, SourceSystem
from maglumat.settings import MaglumatPaths
from pipelines.extract import ExtractRequest, file_inbox
from pipelines.ingest import extract_to_landing
from pipelines.landing import land_batch, list_batches
from tests.sectors.inbox_support import (
    CHEMICAL,
    FUEL,
    LONG_AGO,
    NEW_EXPORT_WITH_BOM,
    catalogue_system,
    chemical_form,
    drop_file,
    inbox_of,
    processed_files,
    rejected_reasons,
)
from tests.support import age_file

# --- files that cannot be read --------------------------------------------------------------


@pytest.mark.parametrize(
    ("system_name", "table_name", "file_name", "data", "reason"),
    [
        (
            FUEL,
            "daily_production",
            "fek_2023-09-14.csv",
            b"",
            "fek_2023-09-14.csv: the file is empty",
        ),
        (
            FUEL,
            "daily_production",
            "fek_2023-09-15.csv",
            NEW_EXPORT_WITH_BOM + b"2023-09-12,TGZ-DW",
            "fek_2023-09-15.csv: line 4 has 2 fields where the header has 5 "
            "(the file looks truncated)",
        ),
        (
            FUEL,
            "daily_production",
            "fek_2023-09-16.csv",
            NEW_EXPORT_WITH_BOM.split(b"\n")[0] + b"\n",
            "fek_2023-09-16.csv: no data rows under the header",
        ),
        (
            FUEL,
            "daily_production",
            "fek_2023-09-17.csv",
            b"PK\x03\x04" + b"\x00" * 64,
            "fek_2023-09-17.csv: a ZIP archive (an XLSX workbook?), not a CSV file",
        ),
        (
            CHEMICAL,
            "monthly_output",
            "1-himiya_2023-07.xlsx",
            chemical_form()[:3000],
            "1-himiya_2023-07.xlsx: not a readable XLSX workbook (truncated or another format)",
        ),
        (
            CHEMICAL,
            "monthly_output",
            "1-himiya_2023-06.xlsx",
            chemical_form(sheet="Sheet1"),
            "1-himiya_2023-06.xlsx: no sheet '1-Ö himiýa' (the workbook has ['Sheet1'])",
        ),
        (
            CHEMICAL,
            "monthly_output",
            "1-himiya_2023-05.xlsx",
            chemical_form(period="Hasabat döwri: maý"),
            "1-himiya_2023-05.xlsx: cell A3 ('Hasabat döwri: maý') does not match "
            "'(\\\\d{4}-\\\\d{2})', so report_month is unknown",
        ),
    ],
    ids=[
        "empty",
        "truncated",
        "header-only",
        "xlsx-named-csv",
        "truncated-xlsx",
        "no-sheet",
        "no-period",
    ],
)
def test_a_file_that_cannot_be_read_is_rejected_with_its_reason_and_nothing_is_lost(
    maglumat_home: MaglumatPaths,
    monkeypatch: pytest.MonkeyPatch,
    system_name: str,
    table_name: str,
    file_name: str,
    data: bytes,
    reason: str,
) -> None:
    monkeypatch.delenv(f"MAGLUMAT_{system_name.upper()}_INBOX", raising=False)
    system = catalogue_system(system_name)
    drop_file(inbox_of(maglumat_home, system_name), file_name, data)

    outcome = extract_to_landing(maglumat_home, system, system.table(table_name))

    assert outcome.manifests == []
    assert list_batches(maglumat_home.landing, system_name) == []
    rejected = rejected_reasons(maglumat_home, system_name)
    assert list(rejected) == [file_name]
    assert f"file: {file_name}\n" in rejected[file_name]
    assert reason in rejected[file_name]
    kept = maglumat_home.systems / system_name / "rejected" / file_name
    assert kept.read_bytes() == data  # kept as it came
    assert list(inbox_of(maglumat_home, system_name).iterdir()) == []
    assert file_inbox.rejected_files(system, maglumat_home) == rejected


# --- never lost, never twice ----------------------------------------------------------------


def test_a_file_landed_before_a_crash_is_moved_on_the_next_run_not_landed_again(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    inbox = inbox_of(maglumat_home, FUEL)
    drop_file(inbox, "fek_2023-09-12.csv", NEW_EXPORT_WITH_BOM)
    table = fuel.table("daily_production")
    # The run lands the batch and stops before moving the file (its on_landed never runs).
    request = ExtractRequest(fuel, table, fuel.connection(maglumat_home), None, maglumat_home)
    extracts = file_inbox.extract(request)
    extracted = next(extracts)
    extracts.close()
    land_batch(
        maglumat_home.landing,
        system=FUEL,
        table=table.name,
        mode=table.mode,
        frame=extracted.frame,
        source=str(inbox),
        cursor_to=extracted.cursor_to,
        source_file=extracted.source_file,
    )
    assert (inbox / "fek_2023-09-12.csv").exists()

    outcome = extract_to_landing(maglumat_home, fuel, table)

    assert outcome.manifests == []
    assert len(list_batches(maglumat_home.landing, FUEL, table.name)) == 1
    assert list(inbox.iterdir()) == []
    assert processed_files(maglumat_home, FUEL) == ["fek_2023-09-12.csv"]


def test_a_day_sent_again_under_the_same_name_lands_again_and_both_files_are_kept(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    inbox = inbox_of(maglumat_home, FUEL)
    table = fuel.table("daily_production")
    drop_file(inbox, "fek_2023-09-12.csv", NEW_EXPORT_WITH_BOM)
    (first,) = extract_to_landing(maglumat_home, fuel, table).manifests
    corrected = NEW_EXPORT_WITH_BOM.replace(b"81234.5", b"79000.0").replace(
        b"2023-09-13 08:20", b"2023-09-15 10:05"
    )
    drop_file(inbox, "fek_2023-09-12.csv", corrected, LONG_AGO + dt.timedelta(days=2))
    # The same content again under another name is not landed twice.
    drop_file(inbox, "fek_2023-09-12_kopiya.csv", corrected, LONG_AGO + dt.timedelta(days=3))

    (second,) = extract_to_landing(maglumat_home, fuel, table).manifests

    assert (first.source_file, second.source_file) == ("fek_2023-09-12.csv",) * 2
    assert first.cursor_to != second.cursor_to
    assert processed_files(maglumat_home, FUEL) == sorted(
        ["fek_2023-09-12.csv", f"fek_2023-09-12.{second.batch_id}.csv", "fek_2023-09-12_kopiya.csv"]
    )
    processed = maglumat_home.systems / FUEL / "processed"
    assert (processed / "fek_2023-09-12.csv").read_bytes() == NEW_EXPORT_WITH_BOM
    assert (processed / f"fek_2023-09-12.{second.batch_id}.csv").read_bytes() == corrected


def test_a_file_still_being_written_waits_until_it_has_settled(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    inbox = inbox_of(maglumat_home, FUEL)
    table = fuel.table("daily_production")
    path = drop_file(inbox, "fek_2023-09-12.csv", NEW_EXPORT_WITH_BOM, arrived=None)

    assert extract_to_landing(maglumat_home, fuel, table).manifests == []
    assert path.exists()

    age_file(path, 60)
    assert len(extract_to_landing(maglumat_home, fuel, table).manifests) == 1


def test_catalogue_mistakes_are_named(maglumat_home: MaglumatPaths, fuel: SourceSystem) -> None:
    from dataclasses import replace

    table = fuel.table("daily_production")
    with pytest.raises(
        CatalogueError, match=r"table daily_production: a file inbox table has mode"
    ):
        file_inbox.InboxOptions.of(fuel, replace(table, mode="incremental", cursor="x"))
    with pytest.raises(
        CatalogueError, match=r"table daily_production: file_inbox options: `pattern`"
    ):
        file_inbox.InboxOptions.of(fuel, replace(table, options={}))
    # A file two tables would both read is refused rather than raced for.
    overlapping = replace(fuel.table("monthly_plans"), options={"pattern": "fek_*.csv"})
    system = replace(fuel, tables=(table, overlapping))
    drop_file(inbox_of(maglumat_home, FUEL), "fek_2023-09-12.csv", NEW_EXPORT_WITH_BOM)
    with pytest.raises(CatalogueError, match=r"fek_2023-09-12\.csv matches the patterns of tables"):
        extract_to_landing(maglumat_home, system, table)
