"""The file inbox extractor reading the ministries' files as their systems write them: a
Windows-1251 CSV with `;` and decimal commas, UTF-8 with a BOM and Turkmen headers, a CSV whose
layout changed (landed, then held by the gate with the reason), and an XLSX form with title rows
and merged headers.

The files are written here byte by byte; the catalogue entries are the real ones (fuel and
energy, chemical industry), pointed at a temporary inbox (tests/sectors/inbox_support.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from maglumat.catalogue import SourceSystem
from maglumat.settings import MaglumatPaths
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.landing import read_batch
from tests.sectors.inbox_support import (
    CHEMICAL,
    FUEL,
    LONG_AGO,
    NEW_EXPORT_WITH_BOM,
    OLD_EXPORT,
    chemical_form,
    drop_file,
    inbox_of,
    processed_files,
    warehouse_rows,
)

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
