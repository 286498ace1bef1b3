"""The file inbox extractor and sensor on real files: Windows-1251 CSV with `;` and decimal
commas, UTF-8 with a BOM, an XLSX form with title rows and merged headers, files that cannot be
read, a crash between landing and moving, and the sensor's cursor.

The files are written here byte by byte as the ministries' systems write them; the catalogue
entries are the real ones (fuel and energy, chemical industry), pointed at a temporary inbox.
The helpers it shares with the sector tests are in tests/sectors/inbox_support.py.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import dagster as dg
import pytest
import xlsxwriter

from maglumat.catalogue import CatalogueError, SourceSystem, load_catalogue
from maglumat.settings import MaglumatPaths
from pipelines.extract import ExtractRequest, file_inbox
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.landing import land_batch, list_batches, read_batch
from pipelines.resources import MaglumatResource
from pipelines.sensors import build_inbox_sensors
from tests.sectors.inbox_support import (
    CHEMICAL,
    FUEL,
    LONG_AGO,
    NEW_EXPORT_WITH_BOM,
    OLD_EXPORT,
    catalogue_system,
    drop_file,
    inbox_of,
    processed_files,
    rejected_reasons,
    warehouse_rows,
)
from tests.support import age_file


def chemical_form(
    period: str = "Hasabat döwri: 2023-09", sheet: str = "1-Ö himiýa", rows: int = 3
) -> bytes:
    """Form 1-Ö as Türkmenhimiýa lays it out: five title rows, a two-row header with merged
    cells, a row of column numbers, a plant merged over its products, totals and signatures."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet_ = workbook.add_worksheet(sheet)
    sheet_.merge_range("A1:J1", "«Türkmenhimiýa» döwlet konserni")
    sheet_.merge_range("A2:J2", "Himiýa önümleriniň önümçiligi barada aýlyk hasabat (1-Ö)")
    sheet_.merge_range("A3:J3", period)
    sheet_.merge_range("A4:J4", "Düzülen senesi: 04.10.2023")
    for column, label in enumerate(
        ["T/b", "Kärhananyň kody", "Kärhananyň ady", "Önümiň kody", "Önümiň ady", "Ölçeg birligi"]
    ):
        sheet_.merge_range(5, column, 6, column, label)
    sheet_.merge_range("G6:H6", "Önümçilik, tonna")
    sheet_.write_row("G7", ["meýilnama", "hakyky"])
    sheet_.merge_range("I6:J6", "Ýerlenildi, tonna")
    sheet_.write_row("I7", ["içerki bazara", "eksporta"])
    sheet_.write_row("A8", list(range(1, 11)))
    data = [
        [
            1,
            "HIM-MRY",
            "Mary azot dökünleri zawody",
            "KRB",
            "Karbamid",
            "tonna",
            49100.0,
            51234.5,
            15000.0,
            36000.25,
        ],
        [
            2,
            "HIM-MRY",
            "Mary azot dökünleri zawody",
            "AMM",
            "Suwuk ammiak",
            "tonna",
            3500.0,
            3320.0,
            2650.0,
            670.0,
        ],
        [3, "HIM-HZR", "Hazar himiýa zawody", "YOD", "Ýod", "tonna", 19.2, 20.125, 1.0, 19.0],
    ][:rows]
    for index, row in enumerate(data):
        sheet_.write_row(8 + index, 0, row)
    if rows >= 2:  # the plant's code and name merged over its two products
        sheet_.merge_range(8, 1, 9, 1, "HIM-MRY")
        sheet_.merge_range(8, 2, 9, 2, "Mary azot dökünleri zawody")
    sheet_.write_row(8 + len(data), 0, ["Jemi", None, None, None, None, None, 52619.2])
    sheet_.write(10 + len(data), 0, "Baş inžener: ____________")
    workbook.close()
    return buffer.getvalue()


# --- CSV ------------------------------------------------------------------------------------


def test_an_old_windows_1251_export_lands_with_its_numbers_dates_and_times_converted(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    drop_file(inbox_of(maglumat_home, FUEL), "fek_arhiw_2022-01.csv", OLD_EXPORT)
    table = fuel.table("daily_production")

    outcome = extract_to_landing(maglumat_home, fuel, table)

    (manifest,) = outcome.manifests
    assert manifest.source_file == "fek_arhiw_2022-01.csv"
    assert manifest.cursor_to is not None
    assert manifest.cursor_to.startswith("sha256:")
    landed = read_batch(maglumat_home.landing, manifest)
    assert landed.columns == [
        "report_date",
        "enterprise_code",
        "product_code",
        "quantity",
        "transmitted_at",
    ]
    # Kept as text, as read, with only what the contract cannot read rewritten.
    assert landed.row(0) == ("2022-01-01", "TGZ-GLK", "GAZ", "82145.3", "2022-01-02 08:15:00+05:00")
    assert landed.get_column("quantity").to_list() == ["82145.3", "30012.0", "5479.5"]
    assert list((inbox_of(maglumat_home, FUEL)).iterdir()) == []
    assert processed_files(maglumat_home, FUEL) == ["fek_arhiw_2022-01.csv"]

    gate = gate_and_load(maglumat_home, fuel, table)
    assert [load.status for load in gate.loads] == ["loaded"]
    rows = warehouse_rows(
        maglumat_home,
        "select enterprise_code, quantity, transmitted_at from"
        " raw.fuel_energy_production__daily_production order by _row_number",
    )
    assert [(code, quantity) for code, quantity, _ in rows] == [
        ("TGZ-GLK", 82145.3),
        ("ENR-MRY", 30012.0),
        ("TNB-GTD", 5479.5),
    ]
    # 08:15 in Aşgabat is 03:15 UTC.
    assert rows[0][2] == dt.datetime(2022, 1, 2, 3, 15, tzinfo=dt.UTC)


def test_utf8_with_a_bom_and_turkmen_headers_lands_into_the_same_columns(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    inbox = inbox_of(maglumat_home, FUEL)
    drop_file(inbox, "fek_arhiw_2022-01.csv", OLD_EXPORT, LONG_AGO)
    drop_file(inbox, "fek_2023-09-12.csv", NEW_EXPORT_WITH_BOM, LONG_AGO + dt.timedelta(hours=1))
    table = fuel.table("daily_production")

    manifests = extract_to_landing(maglumat_home, fuel, table).manifests
    gate = gate_and_load(maglumat_home, fuel, table)

    # One batch per file, in the order the files arrived.
    assert [m.source_file for m in manifests] == ["fek_arhiw_2022-01.csv", "fek_2023-09-12.csv"]
    assert manifests[0].columns == manifests[1].columns
    assert [load.status for load in gate.loads] == ["loaded", "loaded"]
    assert warehouse_rows(
        maglumat_home,
        "select report_date, quantity, transmitted_at"
        " from raw.fuel_energy_production__daily_production where enterprise_code = 'TGZ-GLK'"
        " order by report_date",
    ) == [
        (dt.date(2022, 1, 1), 82145.3, dt.datetime(2022, 1, 2, 3, 15, tzinfo=dt.UTC)),
        (dt.date(2023, 9, 12), 81234.5, dt.datetime(2023, 9, 13, 3, 20, tzinfo=dt.UTC)),
    ]
    assert processed_files(maglumat_home, FUEL) == ["fek_2023-09-12.csv", "fek_arhiw_2022-01.csv"]


def test_a_changed_layout_is_landed_and_held_by_the_gate_with_the_reason(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    renamed = OLD_EXPORT.decode("cp1251").replace("Количество", "Объём").encode("cp1251")
    drop_file(inbox_of(maglumat_home, FUEL), "fek_arhiw_2022-02.csv", renamed)
    table = fuel.table("daily_production")

    (manifest,) = extract_to_landing(maglumat_home, fuel, table).manifests
    gate = gate_and_load(maglumat_home, fuel, table)

    assert gate.open_holds == [manifest.batch_id]
    summary = warehouse_rows(
        maglumat_home,
        "select source_file, gate_summary, held_rows from audit.batches where batch_id = ?",
        [manifest.batch_id],
    )
    assert summary == [
        (
            "fek_arhiw_2022-02.csv",
            f"batch {manifest.batch_id} held ({FUEL}.daily_production): "
            "expect_table_columns_to_match_set: missing columns ['quantity'], "
            "unexpected columns ['Объём']",
            3,
        )
    ]


# --- XLSX -----------------------------------------------------------------------------------


def test_an_xlsx_form_with_title_rows_and_merged_headers_is_read_as_its_table(
    maglumat_home: MaglumatPaths, chemical: SourceSystem
) -> None:
    drop_file(inbox_of(maglumat_home, CHEMICAL), "1-himiya_2023-09.xlsx", chemical_form())
    table = chemical.table("monthly_output")

    (manifest,) = extract_to_landing(maglumat_home, chemical, table).manifests
    landed = read_batch(maglumat_home.landing, manifest)

    # The merged header's levels name the columns; the plant merged over its products fills
    # both rows; the column numbers, the totals and the signatures are not data.
    assert landed.to_dicts() == [
        {
            "line_number": "1",
            "enterprise_code": "HIM-MRY",
            "enterprise_name": "Mary azot dökünleri zawody",
            "product_code": "KRB",
            "product_name": "Karbamid",
            "unit": "tonna",
            "plan_tonnes": "49100",
            "actual_tonnes": "51234.5",
            "sold_domestic_tonnes": "15000",
            "exported_tonnes": "36000.25",
            "report_month": "2023-09",
            "compiled_on": "2023-10-04",
        },
        {
            "line_number": "2",
            "enterprise_code": "HIM-MRY",
            "enterprise_name": "Mary azot dökünleri zawody",
            "product_code": "AMM",
            "product_name": "Suwuk ammiak",
            "unit": "tonna",
            "plan_tonnes": "3500",
            "actual_tonnes": "3320",
            "sold_domestic_tonnes": "2650",
            "exported_tonnes": "670",
            "report_month": "2023-09",
            "compiled_on": "2023-10-04",
        },
        {
            "line_number": "3",
            "enterprise_code": "HIM-HZR",
            "enterprise_name": "Hazar himiýa zawody",
            "product_code": "YOD",
            "product_name": "Ýod",
            "unit": "tonna",
            "plan_tonnes": "19.2",
            "actual_tonnes": "20.125",
            "sold_domestic_tonnes": "1",
            "exported_tonnes": "19",
            "report_month": "2023-09",
            "compiled_on": "2023-10-04",
        },
    ]
    gate = gate_and_load(maglumat_home, chemical, table)
    assert [load.status for load in gate.loads] == ["loaded"]
    assert warehouse_rows(
        maglumat_home,
        "select sum(actual_tonnes), min(compiled_on)"
        " from raw.chemical_monthly_form__monthly_output",
    ) == [(pytest.approx(51234.5 + 3320 + 20.125), dt.date(2023, 10, 4))]
    assert processed_files(maglumat_home, CHEMICAL) == ["1-himiya_2023-09.xlsx"]


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


# --- the sensor -----------------------------------------------------------------------------


def _fuel_sensor() -> dg.SensorDefinition:
    sensors = build_inbox_sensors(load_catalogue(), "maglumat_daily")
    return next(sensor for sensor in sensors if sensor.name == f"{FUEL}__inbox_sensor")


def _tick(sensor: dg.SensorDefinition, paths: MaglumatPaths, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        cursor=cursor, resources={"maglumat": MaglumatResource(home=str(paths.home))}
    )
    result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_one_sensor_per_inbox_system_and_it_loads_with_the_job() -> None:
    systems = load_catalogue()
    sensors = build_inbox_sensors(systems, "maglumat_daily")
    inbox_systems = {s.name for s in systems if s.kind == "file_inbox"}
    assert {FUEL, CHEMICAL, "medicine_facility_reports", "textile_mill_output"} <= inbox_systems
    assert {sensor.name for sensor in sensors} == {
        f"{name}__inbox_sensor" for name in inbox_systems
    }
    definitions = dg.Definitions(
        jobs=[dg.define_asset_job("maglumat_daily")],
        sensors=sensors,
        resources={"maglumat": MaglumatResource()},
    )
    dg.Definitions.validate_loadable(definitions)


def test_the_sensor_requests_a_run_once_per_new_file(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    sensor = _fuel_sensor()
    inbox = inbox_of(maglumat_home, FUEL)

    missing = _tick(sensor, maglumat_home, None)
    assert missing.run_requests == []
    assert missing.skip_reason is not None
    assert "MAGLUMAT_FUEL_ENERGY_PRODUCTION_INBOX" in missing.skip_reason.skip_message

    drop_file(inbox, "fek_2023-09-12.csv", NEW_EXPORT_WITH_BOM)
    drop_file(inbox, "fek_onumler.csv", b"product_code\nGAZ\n")
    drop_file(inbox, "readme.txt", b"not a file of any table")
    first = _tick(sensor, maglumat_home, missing.cursor)
    (request,) = first.run_requests
    assert request.tags["maglumat/system"] == FUEL
    assert request.tags["maglumat/new_files"] == "2"
    assert sorted(json.loads(first.cursor or "{}")) == [
        "fek_2023-09-12.csv",
        "fek_onumler.csv",
    ]

    # The same files, not yet picked up: no second run.
    again = _tick(sensor, maglumat_home, first.cursor)
    assert again.run_requests == []
    assert again.cursor == first.cursor

    # A new file: one run, for it alone.
    drop_file(inbox, "fek_2023-09-13.csv", NEW_EXPORT_WITH_BOM.replace(b"09-12", b"09-13"))
    third = _tick(sensor, maglumat_home, again.cursor)
    (request,) = third.run_requests
    assert request.tags["maglumat/new_files"] == "1"
    assert request.run_key != first.run_requests[0].run_key

    # The run moves the files out: nothing new, and the cursor forgets them.
    for table in fuel.tables:
        extract_to_landing(maglumat_home, fuel, table)
    emptied = _tick(sensor, maglumat_home, third.cursor)
    assert emptied.run_requests == []
    assert emptied.cursor == "{}"

    # The same name again (a day sent again) is new again.
    drop_file(inbox, "fek_2023-09-12.csv", NEW_EXPORT_WITH_BOM, LONG_AGO + dt.timedelta(days=2))
    resent = _tick(sensor, maglumat_home, emptied.cursor)
    assert len(resent.run_requests) == 1


def test_the_sensor_waits_for_a_file_still_being_written(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    sensor = _fuel_sensor()
    path = drop_file(
        inbox_of(maglumat_home, FUEL),
        "fek_2023-09-12.csv",
        NEW_EXPORT_WITH_BOM,
        arrived=None,
    )
    writing = _tick(sensor, maglumat_home, None)
    assert writing.run_requests == []

    age_file(path, 60)
    assert len(_tick(sensor, maglumat_home, writing.cursor).run_requests) == 1
