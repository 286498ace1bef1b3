"""Files as a hostile month of sector systems sends them: a decimal point in a decimal-comma
file, a UTF-8 file with one line in another code page, the same file saved again with a byte
order mark and Windows line ends, a file cut off in transfer, a file still being written, and
the way back after the steward rejects a file's batch.

Every file is real, in the real fuel and energy inbox of a temporary deployment, and every
verdict is read where the steward reads it: the warehouse's audit and ``maglumat quarantine``.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from maglumat.catalogue import SourceSystem
from maglumat.settings import MaglumatPaths
from pipelines.extract import file_inbox
from pipelines.extract.file_inbox import reading as inbox_reading
from pipelines.ingest import extract_to_landing, gate_and_load, readmit, reject
from pipelines.landing import list_batches
from tests.sectors.inbox_support import (
    FUEL,
    LONG_AGO,
    NEW_EXPORT_WITH_BOM,
    drop_file,
    inbox_of,
    land_and_gate,
    processed_files,
    rejected_reasons,
    warehouse_rows,
)
from tests.support import age_file

OLD_HEADER = "Дата;Код предприятия;Код продукции;Количество;Время передачи\r\n"


def _old_export(*quantities: str) -> bytes:
    """The old system's export (Windows-1251, `;`, decimal commas): Galkynyş's gas, one day
    of January 2022 per quantity."""
    lines = [
        f"{day:02d}.01.2022;TGZ-GLK;GAZ;{quantity};{day + 1:02d}.01.2022 08:15\r\n"
        for day, quantity in enumerate(quantities, start=1)
    ]
    return (OLD_HEADER + "".join(lines)).encode("cp1251")


def test_a_point_in_a_decimal_comma_file_groups_digits_or_is_quarantined_never_a_decimal(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    drop_file(
        inbox_of(maglumat_home, FUEL),
        "fek_2022-01-01.csv",
        _old_export("12.345", "81.234,5", "5479.5", *["82 145,3"] * 9),
    )

    (outcome,) = land_and_gate(maglumat_home, fuel)["daily_production"][1].loads

    loaded = warehouse_rows(
        maglumat_home,
        'select quantity from raw."fuel_energy_production__daily_production" order by _row_number',
    )
    # "12.345" is 12 345 with a group mark, never twelve and a third; 81.234,5 likewise.
    assert [quantity for (quantity,) in loaded] == [12345.0, 81234.5, *[82145.3] * 9]
    assert (outcome.loaded_rows, outcome.quarantined_rows) == (11, 1)
    quarantined = warehouse_rows(
        maglumat_home, "select row_number, rule, field, value from audit.quarantine"
    )
    assert quarantined == [
        (
            3,
            "read_problem: a decimal point in a file whose numbers have decimal commas",
            "quantity",
            "5479.5",
        )
    ]


def test_a_utf8_file_with_a_line_in_another_code_page_is_rejected_naming_both_lines(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    pasted = "2023-09-12,TGZ-GLK,GAZ,81234.5,2023-09-13 08:20:00+05:00 Aşgabat\n"
    data = NEW_EXPORT_WITH_BOM + pasted.encode("cp1250")
    inbox = inbox_of(maglumat_home, FUEL)
    drop_file(inbox, "fek_2023-09-12.csv", data)

    assert extract_to_landing(maglumat_home, fuel, fuel.table("daily_production")).manifests == []

    (reason,) = rejected_reasons(maglumat_home, FUEL).values()
    assert (
        "fek_2023-09-12.csv: mixed encodings: line 1 is UTF-8 but line 4 is not (byte 0xba); "
        "the sending system must write one encoding"
    ) in reason
    # A whole file in the old code page is still read as that code page.
    assert inbox_reading._decode(_old_export("1,5"), "old.csv", ("utf-8-sig", "cp1251"))[1] == (
        "cp1251"
    )


def test_a_file_saved_again_with_a_bom_and_windows_line_ends_is_not_a_correction(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    inbox = inbox_of(maglumat_home, FUEL)
    table = fuel.table("daily_production")
    plain = NEW_EXPORT_WITH_BOM.removeprefix(b"\xef\xbb\xbf")
    drop_file(inbox, "fek_2023-09-12.csv", plain)
    (first,) = extract_to_landing(maglumat_home, fuel, table).manifests

    resaved = b"\xef\xbb\xbf" + plain.replace(b"\n", b"\r\n")
    drop_file(inbox, "fek_2023-09-12.csv", resaved, LONG_AGO + dt.timedelta(days=1))

    assert extract_to_landing(maglumat_home, fuel, table).manifests == []
    assert [m.batch_id for m in list_batches(maglumat_home.landing, FUEL, table.name)] == [
        first.batch_id
    ]
    assert processed_files(maglumat_home, FUEL) == sorted(
        ["fek_2023-09-12.csv", f"fek_2023-09-12.{first.batch_id}.csv"]
    )


def test_a_file_cut_inside_its_last_field_waits_then_is_rejected_not_published_in_part(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    inbox = inbox_of(maglumat_home, FUEL)
    table = fuel.table("daily_production")
    # Every field is there, but the last time is cut short and the line has no end.
    cut = NEW_EXPORT_WITH_BOM + b"2023-09-12,TGZ-DWL,GAZ,70000.0,2023-09-13 08:2"
    path = drop_file(inbox, "fek_2023-09-12.csv", cut, arrived=None)

    assert extract_to_landing(maglumat_home, fuel, table).manifests == []
    assert path.exists(), "a file that may still be being written stays in the inbox"

    age_file(path, 601)  # the sender never finished it
    assert extract_to_landing(maglumat_home, fuel, table).manifests == []
    (reason,) = rejected_reasons(maglumat_home, FUEL).values()
    assert "fek_2023-09-12.csv: line 4 does not end with a line end" in reason
    assert "looks cut off in transfer; send it again whole" in reason
    assert list_batches(maglumat_home.landing, FUEL, table.name) == []


def test_a_file_that_changes_between_two_looks_waits(maglumat_home: MaglumatPaths) -> None:
    path = drop_file(inbox_of(maglumat_home, FUEL), "fek_2023-09-12.csv", NEW_EXPORT_WITH_BOM)
    options = file_inbox.InboxOptions(patterns=("fek_*.csv",))
    first_look = path.stat()
    read = file_inbox.Look.of(path.read_bytes())
    assert file_inbox._still_being_written(path, first_look, read, options) is None

    with path.open("ab") as writer:  # the sender goes on writing after the first look
        writer.write(b"2023-09-12,TGZ-DWL,GAZ,70000.0,2023-09-13 08:20:00+05:00\n")

    assert file_inbox._still_being_written(path, first_look, read, options) == "wait"


def test_a_rejected_files_batch_lands_again_when_the_file_is_sent_again_and_is_not_readmitted(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    inbox = inbox_of(maglumat_home, FUEL)
    table = fuel.table("daily_production")
    rows = "".join(
        f"2023-09-{day:02d},TGZ-GLK,GAZ,{'bad' if day > 2 else '81234.5'},"
        f"2023-09-{day + 1:02d} 08:20:00+05:00\n"
        for day in range(1, 11)
    )
    header = NEW_EXPORT_WITH_BOM.split(b"\n")[0] + b"\n"
    data = header + rows.encode()
    drop_file(inbox, "fek_2023-09.csv", data)
    (held,) = land_and_gate(maglumat_home, fuel)["daily_production"][1].loads
    assert held.status == "held"

    listing = _maglumat(maglumat_home, "quarantine")
    assert listing.returncode == 0, listing.stderr
    assert "failing rows: 8" in listing.stdout
    assert (
        "fuel_energy_production.daily_production fek_2023-09.csv row 3 "
        "(report_date=2023-09-03, enterprise_code=TGZ-GLK, product_code=GAZ): "
        "quantity = 'bad' fails type_contract"
    ) in listing.stdout

    reject(maglumat_home, held.batch_id, "the dispatch centre sent text for quantities")
    with pytest.raises(ValueError, match=r"rejected on .* extracted again from the source"):
        readmit(maglumat_home, held.batch_id)

    # The dispatch centre sends the same file again: it is landed again (and held again).
    drop_file(inbox, "fek_2023-09.csv", data, LONG_AGO + dt.timedelta(days=1))
    (again,) = extract_to_landing(maglumat_home, fuel, table).manifests
    assert again.batch_id != held.batch_id
    (verdict,) = gate_and_load(maglumat_home, fuel, table).loads
    assert verdict.status == "held"


def _maglumat(paths: MaglumatPaths, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *arguments],
        env={**os.environ, "MAGLUMAT_HOME": str(paths.home)},
        capture_output=True,
        text=True,
        check=False,
    )


REGISTER_HEADER = "Kärhananyň kody,Ady (türkmençe),Ady (rusça),Edara,Görnüşi,Welaýat,Etrap\n"
REGISTER_ROWS = [
    "TGZ-GLK,Galkynyş,Галкыныш,Türkmengaz,gas_field,TM-M,",
    "TGZ-DWL,Döwletabat,Довлетабад,Türkmengaz,gas_field,TM-M,",
    "TNB-GTD,Gögerendag,Гогерендаг,Türkmennebit,oil_field,TM-B,",
    "ENR-MRY,Mary DES,Марыйская ГЭС,Türkmenenergetika,power_station,TM-M,",
    "ENR-AHL,Ahal DES,Ахалская ЭС,Türkmenenergetika,power_station,TM-A,",
]


def _register(*extra: str) -> bytes:
    return (REGISTER_HEADER + "".join(f"{row}\n" for row in [*REGISTER_ROWS, *extra])).encode()


def test_an_unknown_enterprise_is_quarantined_by_the_gate_and_loads_once_the_register_has_it(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    inbox = inbox_of(maglumat_home, FUEL)
    enterprises, daily = fuel.table("enterprises"), fuel.table("daily_production")
    drop_file(inbox, "fek_karhanalar.csv", _register())
    extract_to_landing(maglumat_home, fuel, enterprises)
    gate_and_load(maglumat_home, fuel, enterprises)
    header = NEW_EXPORT_WITH_BOM.split(b"\n")[0] + b"\n"
    rows = [
        f"2023-09-{day:02d},{code},GAZ,1000.0,2023-09-{day + 1:02d} 08:20:00+05:00\n"
        for day in range(1, 11)
        for code in ("TGZ-GLK", "TGZ-DWL")
    ]
    rows.append("2023-09-10,TGZ-BRS,GAZ,900.0,2023-09-11 08:20:00+05:00\n")  # a new field
    drop_file(inbox, "fek_2023-09-10.csv", header + "".join(rows).encode())
    (batch,) = extract_to_landing(maglumat_home, fuel, daily).manifests

    (first,) = gate_and_load(maglumat_home, fuel, daily).loads

    assert (first.status, first.loaded_rows, first.quarantined_rows) == (
        "loaded_with_quarantine",
        20,
        1,
    )
    listing = _maglumat(maglumat_home, "quarantine").stdout
    assert (
        "fek_2023-09-10.csv row 21 (report_date=2023-09-10, enterprise_code=TGZ-BRS, "
        "product_code=GAZ): enterprise_code = 'TGZ-BRS' fails expect_column_values_to_be_in_set"
    ) in listing

    # The ministry adds the field to its register; the steward readmits the batch.
    drop_file(
        inbox,
        "fek_karhanalar_2023-09-11.csv",
        _register("TGZ-BRS,Bereket,Берекет,Türkmengaz,gas_field,TM-B,"),
        LONG_AGO + dt.timedelta(days=1),
    )
    extract_to_landing(maglumat_home, fuel, enterprises)
    gate_and_load(maglumat_home, fuel, enterprises)
    again = readmit(maglumat_home, batch.batch_id)

    assert (again.status, again.loaded_rows, again.quarantined_rows) == ("loaded", 21, 0)
    assert warehouse_rows(
        maglumat_home,
        'select quantity from raw."fuel_energy_production__daily_production"'
        " where enterprise_code = 'TGZ-BRS'",
    ) == [(900.0,)]
    assert warehouse_rows(maglumat_home, "select count(*) from audit.quarantine") == [(0,)]


def _day_rows(day: dt.date, codes: list[tuple[str, str]]) -> str:
    sent = day + dt.timedelta(days=1)
    return "".join(
        f"{day},{code},{product},1000.0,{sent} 08:20:00+05:00\n" for code, product in codes
    )


def test_a_day_delivered_in_part_is_held_against_the_same_weekdays_usual_count(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    inbox = inbox_of(maglumat_home, FUEL)
    daily = fuel.table("daily_production")
    header = (NEW_EXPORT_WITH_BOM.split(b"\n")[0] + b"\n").decode("utf-8")
    codes = [("TGZ-GLK", "GAZ"), ("TGZ-DWL", "GAZ"), ("TNB-GTD", "NBT"), ("ENR-MRY", "ELK")]
    august = [dt.date(2023, 8, 1) + dt.timedelta(days=n) for n in range(31)]
    archive = header + "".join(_day_rows(day, codes) for day in august)
    drop_file(inbox, "fek_arhiw_2023-08.csv", archive.encode("utf-8"))
    (archived,) = land_and_gate(maglumat_home, fuel)["daily_production"][1].loads
    assert archived.status == "loaded"

    # Tuesday 5 September arrives cut off at a line end: one row of the usual four.
    drop_file(
        inbox,
        "fek_2023-09-05.csv",
        (header + _day_rows(dt.date(2023, 9, 5), codes[:1])).encode("utf-8"),
        LONG_AGO + dt.timedelta(days=1),
    )
    extract_to_landing(maglumat_home, fuel, daily)
    (cut,) = gate_and_load(maglumat_home, fuel, daily).loads

    assert cut.status == "held"
    (summary,) = warehouse_rows(
        maglumat_home, "select gate_summary from audit.batches where batch_id = ?", [cut.batch_id]
    )[0:1]
    assert (
        "daily_volume_against_same_weekday: 2023-09-05 (Tuesday): 1 row against a median of 4 "
        "on the 5 Tuesdays before it"
    ) in summary[0]

    # The whole day, sent next, loads; a correction of one row of a loaded day is not judged.
    drop_file(
        inbox,
        "fek_2023-09-05_doly.csv",
        (header + _day_rows(dt.date(2023, 9, 5), codes)).encode("utf-8"),
        LONG_AGO + dt.timedelta(days=2),
    )
    correction = header + _day_rows(dt.date(2023, 8, 29), codes[:1]).replace("1000.0", "990.0")
    drop_file(
        inbox, "fek_2023-08-29_duzedis.csv", correction.encode(), LONG_AGO + dt.timedelta(days=3)
    )
    extract_to_landing(maglumat_home, fuel, daily)
    assert [load.status for load in gate_and_load(maglumat_home, fuel, daily).loads] == [
        "loaded",
        "loaded",
    ]
