"""The workbooks the XLSX benchmark reads: the health ministry's two monthly forms at any
size (title rows, a two-row merged header), the hostile files an inbox receives, and one cell of
each kind the readers could give differently."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

LAYOUTS = {"facility": "Hasabat", "stock": "Galyndy"}
MINISTRY = "Türkmenistanyň Saglygy goraýyş we derman senagaty ministrligi"
TITLES = {
    "facility": "Lukmançylyk edaralarynyň işi barada aýlyk hasabat",
    "stock": "Derman serişdeleriniň hereketi we galyndysy barada aýlyk hasabat",
}
PLACES = ("Ak bugdaý", "Bäherden", "Kaka", "Tejen", "Bereket", "Magtymguly", "Türkmenbaşy")
MEDICINES = (
    ("PAR-500", "Parasetamol 500 mg", "gap"),
    ("AMX-250", "Amoksisillin 250 mg", "gap"),
    ("INS-100", "Insulin 100 BB/ml", "flakon"),
    ("NAC-09", "Natriý hloridi 0,9 %", "flakon"),
    ("MET-850", "Metformin 850 mg", "gap"),
    ("ENL-10", "Enalapril 10 mg", "gap"),
    ("OMP-20", "Omeprazol 20 mg", "gap"),
    ("CEF-1", "Seftriakson 1 g", "flakon"),
    ("IBU-400", "Ibuprofen 400 mg", "gap"),
    ("HEP-5", "Geparin 5000 BB", "ampula"),
    ("VIT-C", "Askorbin turşusy", "kg"),
    ("SPR-70", "Etil spirti 70 %", "litr"),
)


# --- the workbooks ---------------------------------------------------------------------------


def title(layout: str) -> list[str]:
    return [MINISTRY, TITLES[layout], "Hasabat döwri: 2023-09", "Düzülen senesi: 04.10.2023", ""]


def write_facility(path: Path, rows: int) -> None:
    """The facility report as openpyxl writes it (write-only mode, as a script would)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(LAYOUTS["facility"])
    for text in title("facility"):
        sheet.append([text or None])
    sheet.append(
        [
            "Edaranyň kody",
            "Edaranyň ady",
            "Düşekler",
            None,
            "Kabul edilenler",
            None,
            "Hasabat tabşyrylan senesi",
        ]
    )
    sheet.append([None, None, "sany", "ulanylan düşek-günler", "ambulator gatnaw", "stasionar"])
    totals = [0, 0, 0, 0]
    for number in range(rows):
        beds = 40 + number * 7919 % 460
        figures = [beds, beds * 27 + number % 13, 900 + number * 104729 % 12000, beds * 3]
        totals = [total + figure for total, figure in zip(totals, figures, strict=True)]
        submitted = WriteOnlyCell(sheet, dt.datetime(2023, 10, 1 + number % 9))
        submitted.number_format = "dd.mm.yyyy"
        place = PLACES[number % len(PLACES)]
        sheet.append([f"SG-{number:06d}", f"{place} etrap hassahanasy", *figures, submitted])
    sheet.append(["Jemi", None, *totals])
    sheet.append([])
    sheet.append(["Statistika bölüminiň müdiri: ____________"])
    header = ("A6:A7", "B6:B7", "C6:D6", "E6:F6", "G6:G7")
    for merged in ("A1:G1", "A2:G2", "A3:G3", "A4:G4", *header):
        sheet.merged_cells.add(merged)
    workbook.save(path)


def write_stock(path: Path, rows: int) -> None:
    """The medicine stock report as the simulator writes it (xlsxwriter, shared strings)."""
    from simulator.inbox import Form, Header, xlsx_bytes

    body = []
    for number in range(rows):
        code, name, unit = MEDICINES[number % len(MEDICINES)]
        opening = number * 7919 % 900
        received = (number * 104729 % 400) + (0.5 if unit in ("kg", "litr") else 0)
        consumed = number * 31 % 300
        body.append(
            (
                f"SG-{number // len(MEDICINES):06d}",
                code,
                name,
                unit,
                opening,
                received,
                consumed,
                opening + received - consumed,
            )
        )
    form = Form(
        sheet=LAYOUTS["stock"],
        title=title("stock"),
        header=(
            Header("Edaranyň kody"),
            Header("Dermanyň kody"),
            Header("Dermanyň ady"),
            Header("Ölçeg birligi"),
            Header(
                "Mukdary",
                ("aýyň başyna galyndy", "gelen", "sarp edilen", "aýyň ahyryna galyndy"),
            ),
        ),
        rows=body,
        merge_down=(0,),
    )
    path.write_bytes(xlsx_bytes([form]))


WRITERS: dict[str, Callable[[Path, int], None]] = {
    "facility": write_facility,
    "stock": write_stock,
}


# --- the readers, each as a sheet of text cells with merged cells filled ----------------------


Grid = tuple[list[list[str | None]], list[tuple[int, int, int, int]]]


def rewrite_sheet(source: Path, target: Path, change: Callable[[str], str]) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = change(data.decode("utf-8")).encode("utf-8")
            new.writestr(item, data)


def dimension_a1(xml: str) -> str:
    return re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1"/>', xml)


def stray_last_cell(xml: str) -> str:
    last = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return xml.replace("</sheetData>", f"{last}</sheetData>")


def hostile_files(folder: Path, facility: Path, stock: Path) -> list[tuple[str, Path, Path]]:
    """(what, file, the intact file it was made from) of files an inbox receives beside good
    ones."""
    truncated = folder / "truncated.xlsx"
    truncated.write_bytes(facility.read_bytes()[:3000])
    text = folder / "text.xlsx"
    text.write_text("Edaranyň kody;Edaranyň ady\nSG-000001;Kaka\n", encoding="utf-8")
    wrong_dimension = folder / "wrong_dimension.xlsx"
    rewrite_sheet(stock, wrong_dimension, dimension_a1)
    stray = folder / "stray_last_cell.xlsx"
    rewrite_sheet(facility, stray, stray_last_cell)
    return [
        ("truncated workbook (first 3000 bytes)", truncated, facility),
        ("a CSV text named .xlsx", text, facility),
        ("dimension recorded as A1", wrong_dimension, stock),
        ("a stray value in cell XFD1048576", stray, facility),
    ]


EDGE_CELLS = (
    "text with a carriage return (Excel writes _x000D_)",
    "a 16-digit account number stored as a number",
    "an error value shown in the cell (#DIV/0!)",
    "a time of day (hh:mm)",
    "a duration ([h]:mm)",
    "a yes/no value",
    "a date and time",
    "text that looks like an escape (_x0041_)",
)


def write_edge_cells(path: Path) -> None:
    """One cell of each kind in column A, in the order of ``EDGE_CELLS``, as Excel stores it."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("Cells")
    sheet.write_string(0, 0, "Kaka\r\netraby")
    sheet.write_number(1, 0, 1234567890123456)
    sheet.write_formula(2, 0, "=1/0", None, "#DIV/0!")
    sheet.write_datetime(3, 0, dt.time(8, 15), workbook.add_format({"num_format": "hh:mm"}))
    sheet.write_number(4, 0, 1.25, workbook.add_format({"num_format": "[h]:mm"}))
    sheet.write_boolean(5, 0, True)
    when = workbook.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    sheet.write_datetime(6, 0, dt.datetime(2023, 3, 15, 12, 0), when)
    sheet.write_string(7, 0, "_x0041_ literal")
    workbook.close()
