"""Reading an XLSX workbook's sheet as text cells, its merged cells filled with their value.

openpyxl streams the values (read-only mode); the merged ranges, which read-only mode does not
give, are read from the sheet's XML. Measured against openpyxl's full mode and calamine in
``bench/xlsx_readers.py`` (docs/benchmark.md)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pipelines.extract.file_inbox.options import DecimalMark, InboxOptions, UnreadableFileError
from pipelines.extract.file_inbox.sheet import Sheet


def xlsx_text(value: Any) -> str | None:
    """An XLSX cell as the text a person reads in it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def read_xlsx(path: Path, name: str, options: InboxOptions) -> Sheet:
    """The options' sheet (or the first) as text cells, merged cells filled."""
    # Imported here: only XLSX inboxes need it, and it costs import time.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # Read-only mode streams the values; openpyxl's full mode spends most of its time
        # styling merged cells, so the merged ranges are read from the sheet's XML instead.
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise UnreadableFileError(
            f"{name}: not a readable XLSX workbook (truncated or another format): {error}"
        ) from error
    try:
        if options.sheet is None:
            sheet = workbook.worksheets[0]
        elif options.sheet in workbook.sheetnames:
            sheet = workbook[options.sheet]
        else:
            raise UnreadableFileError(
                f"{name}: no sheet {options.sheet!r} (the workbook has {workbook.sheetnames})"
            )
        title = sheet.title
        sheet.reset_dimensions()  # trust the cells, not the dimension the writer recorded
        try:
            rows = [
                [xlsx_text(value) for value in row] for row in sheet.iter_rows(values_only=True)
            ]
            merged = merged_ranges(path, title)
        except (
            zipfile.BadZipFile,
            KeyError,
            OSError,
            StopIteration,
            ValueError,
            ElementTree.ParseError,
        ) as error:
            raise UnreadableFileError(f"{name}: sheet {title!r} cannot be read: {error}") from error
    finally:
        workbook.close()
    decimal: DecimalMark = "point" if options.decimal == "auto" else options.decimal
    read = Sheet(rows=rows, row_label=f"sheet {title!r} row", merged=merged, decimal=decimal)
    fill_merged(read)
    return read


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def merged_ranges(path: Path, title: str) -> list[tuple[int, int, int, int]]:
    """Merged cell ranges of a sheet (0-based, inclusive), from the workbook's XML parts."""
    from openpyxl.utils.cell import range_boundaries

    with zipfile.ZipFile(path) as archive:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        relation = next(
            element.get(_RELATIONSHIP)
            for element in workbook.iter(f"{_MAIN}sheet")
            if element.get("name") == title
        )
        relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        target = next(
            str(element.get("Target")) for element in relations if element.get("Id") == relation
        )
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        ranges = []
        with archive.open(part) as sheet_xml:
            for _, element in ElementTree.iterparse(sheet_xml):
                if element.tag == f"{_MAIN}mergeCell":
                    left, top, right, bottom = range_boundaries(str(element.get("ref")))
                    ranges.append((top - 1, left - 1, bottom - 1, right - 1))
                element.clear()
    return ranges


def fill_merged(sheet: Sheet) -> None:
    """A merged cell's value belongs to every cell it covers (a merged header, a plant's name
    merged down over its products)."""
    for top, left, bottom, right in sheet.merged:
        if top >= len(sheet.rows):
            continue
        value = sheet.rows[top][left] if left < len(sheet.rows[top]) else None
        for row_index in range(top, min(bottom, len(sheet.rows) - 1) + 1):
            row = sheet.rows[row_index]
            row.extend([None] * (right + 1 - len(row)))
            for column in range(left, right + 1):
                row[column] = value
