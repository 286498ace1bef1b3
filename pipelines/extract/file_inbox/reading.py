"""Reading one inbox file (CSV or XLSX) into text columns named as the catalogue says."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import polars as pl

from quality.gate import READ_PROBLEM_COLUMN

if TYPE_CHECKING:
    pass
from pipelines.extract.file_inbox.options import (
    _COMMA_NUMBER,
    _DATE_LIKE,
    _DOTTED_GROUPS,
    _GROUP_SEPARATORS,
    _POINT_IN_COMMA_FILE,
    _POINT_NUMBER,
    DELIMITERS,
    CellField,
    DecimalMark,
    InboxOptions,
    NoDataRowsError,
    UnreadableFileError,
    _column_letters,
    _label_key,
)

log = logging.getLogger(__name__)


@dataclass
class _Sheet:
    """A file as rows of text cells (None for empty), before the header is interpreted."""

    rows: list[list[str | None]]
    row_label: str  # "line" for CSV, "row" for XLSX: how messages name a position
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based, inclusive
    decimal: DecimalMark = "point"


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig", "utf8-sig")


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def _decode(data: bytes, name: str, encodings: Sequence[str]) -> tuple[str, str]:
    """The file's text, in the encoding the evidence shows among ``encodings``.

    Valid UTF-8 is UTF-8 (a single-byte code page such as cp1251 decodes any bytes, so it can
    only be the fallback). A file with UTF-8 lines and lines that are not is neither: it is
    refused with the lines named, rather than garbled whole. One declared encoding is used as
    declared."""
    if data.startswith(b"PK\x03\x04"):
        raise UnreadableFileError(f"{name}: a ZIP archive (an XLSX workbook?), not a CSV file")
    if b"\x00" in data[:8192]:
        raise UnreadableFileError(f"{name}: binary content (NUL bytes), not a CSV text file")
    if len(encodings) == 1:
        try:
            return data.decode(encodings[0]), encodings[0]
        except UnicodeDecodeError as error:
            raise UnreadableFileError(
                f"{name}: line {_line_of(data, error.start)} is not {encodings[0]} "
                f"(byte 0x{data[error.start]:02x}), the encoding the catalogue declares"
            ) from error
    if any(_is_utf8(encoding) for encoding in encodings):
        bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        try:
            return data[bom:].decode("utf-8"), "utf-8"
        except UnicodeDecodeError as error:
            _refuse_mixed_encodings(data, name, bom + error.start)
    for encoding in encodings:
        if _is_utf8(encoding):
            continue
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise UnreadableFileError(f"{name}: not text in any of the encodings {list(encodings)}")


def _refuse_mixed_encodings(data: bytes, name: str, first_bad: int) -> None:
    """Raise if lines that are not UTF-8 sit beside lines of UTF-8 letters (a name pasted from
    another system): decoding the whole file with a code page would garble the UTF-8 ones."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        bad_line = _line_of(data, first_bad)
        raise UnreadableFileError(
            f"{name}: mixed encodings: line {number} is UTF-8 but line {bad_line} is not "
            f"(byte 0x{data[first_bad]:02x}); the sending system must write one encoding"
        )


_DECIMAL_COMMA = re.compile(r"(?:^|[^\d,])\d+,\d+(?:$|[^\d,])", re.MULTILINE)


def _decimal_mark_of(text: str, delimiter: str) -> DecimalMark:
    """The decimal mark of a CSV file whose table does not declare it: a point when commas
    separate the fields; otherwise a comma if any number is written with one ("82 145,3"),
    else a point (a tab- or `|`-separated export of a system that writes points)."""
    if delimiter == ",":
        return "point"
    return "comma" if _DECIMAL_COMMA.search(text) else "point"


def _delimiter(line: str, candidates: Sequence[str]) -> str:
    """The separator that splits the header line into the most fields."""
    counts = {
        candidate: len(next(csv.reader([line], delimiter=candidate), []))
        for candidate in candidates
    }
    return max(candidates, key=lambda candidate: counts[candidate])


def _read_csv(data: bytes, name: str, options: InboxOptions) -> _Sheet:
    text, encoding = _decode(data, name, options.encodings)
    lines = text.splitlines()
    header_line = options.title_rows
    while header_line < len(lines) and not lines[header_line].strip():
        header_line += 1
    if header_line >= len(lines):
        raise UnreadableFileError(f"{name}: no header line (read as {encoding})")
    delimiter = options.delimiter or _delimiter(lines[header_line], DELIMITERS)
    rows = [
        [value if value.strip() else None for value in row]
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    ]
    decimal = options.decimal
    if decimal == "auto":
        decimal = _decimal_mark_of(text, delimiter)
    return _Sheet(rows=rows, row_label="line", decimal=decimal)


def _xlsx_text(value: Any) -> str | None:
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


def _read_xlsx(path: Path, name: str, options: InboxOptions) -> _Sheet:
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
                [_xlsx_text(value) for value in row] for row in sheet.iter_rows(values_only=True)
            ]
            merged = _merged_ranges(path, title)
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
    return _Sheet(rows=rows, row_label=f"sheet {title!r} row", merged=merged, decimal=decimal)


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _merged_ranges(path: Path, title: str) -> list[tuple[int, int, int, int]]:
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


def _fill_merged(sheet: _Sheet) -> None:
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


def _header_labels(header: list[list[str | None]], fill_right: bool) -> list[str | None]:
    """One label per column: the levels of a multi-row header joined with `` / ``."""
    width = max(len(row) for row in header)
    levels = [row + [None] * (width - len(row)) for row in header]
    # A CSV keeps only the first cell of a merged upper level: it covers the empty ones after it
    # (an XLSX says which cells are merged, so it needs no guess).
    for level in levels[:-1] if fill_right else []:
        for column in range(1, width):
            if level[column] is None and levels[-1][column] is not None:
                level[column] = level[column - 1]
    labels: list[str | None] = []
    for column in range(width):
        parts: list[str] = []
        for level in levels:
            value = level[column]
            if value is not None and " ".join(value.split()) not in parts:
                parts.append(" ".join(value.split()))
        labels.append(" / ".join(parts) if parts else None)
    return labels


def _cell_value(sheet: _Sheet, spec: CellField, name: str) -> str:
    if spec.cell is not None:
        row_index, column_index = spec.cell[0] - 1, spec.cell[1] - 1
        row = sheet.rows[row_index] if row_index < len(sheet.rows) else []
        text = row[column_index] if column_index < len(row) else None
    else:
        row_index = (spec.row or 1) - 1
        row = sheet.rows[row_index] if row_index < len(sheet.rows) else []
        text = " ".join(value for value in row if value)
    match = spec.pattern.search(text or "")
    if not match:
        raise UnreadableFileError(
            f"{name}: {spec.where} ({text!r}) does not match {spec.pattern.pattern!r}, "
            f"so {spec.name} is unknown"
        )
    return match.group(1)


def _column_names(
    name: str, labels: list[str | None], used: list[int], options: InboxOptions
) -> dict[int, str]:
    """Each kept column's name: its label mapped by the table's options, or ``column_<letters>``
    where it has none. Two columns of one name are an unreadable file."""
    names: dict[int, str] = {}
    seen: dict[str, int] = {}
    for column in used:
        label = labels[column]
        if label is None:
            column_name = f"column_{_column_letters(column + 1).lower()}"
        else:
            column_name = options.columns.get(_label_key(label), label)
        if column_name in seen:
            raise UnreadableFileError(
                f"{name}: columns {_column_letters(seen[column_name] + 1)} and "
                f"{_column_letters(column + 1)} are both {column_name!r}"
            )
        seen[column_name] = column
        names[column] = column_name
    return names


class _Normaliser:
    """Rewrites what the contract cannot read: decimal commas, digit groups, local dates."""

    def __init__(self, options: InboxOptions, decimal: DecimalMark) -> None:
        self.decimal = decimal
        self.date_formats = options.date_formats
        self.zone = ZoneInfo(options.timezone) if options.timezone else None

    def __call__(self, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if not text:
            return None
        if self.decimal == "comma":
            if _COMMA_NUMBER.match(text):
                return _GROUP_SEPARATORS.sub("", text).replace(",", ".")
            if _DOTTED_GROUPS.match(text):  # "1.234.567,5": points group the digits
                return text.replace(".", "").replace(",", ".")
        elif _POINT_NUMBER.match(text):
            return _GROUP_SEPARATORS.sub("", text)
        if self.date_formats and _DATE_LIKE.match(text):
            return self._date(text)
        return text

    def problem(self, value: str | None) -> str | None:
        """Why a value cannot be read with confidence, or None: a number with a decimal point
        in a decimal-comma file ("12.5") may be 12.5 or a misplaced group mark of 12 500."""
        if value is None or self.decimal != "comma":
            return None
        text = value.strip()
        if _POINT_IN_COMMA_FILE.match(text) and not _DOTTED_GROUPS.match(text):
            return "a decimal point in a file whose numbers have decimal commas"
        return None

    def _date(self, text: str) -> str:
        for date_format in self.date_formats:
            try:
                parsed = dt.datetime.strptime(text, date_format)
            except ValueError:
                continue
            if not any(code in date_format for code in ("%H", "%I", "%M", "%S")):
                return parsed.date().isoformat()
            if self.zone is not None:
                parsed = parsed.replace(tzinfo=self.zone)
            return parsed.isoformat(sep=" ")
        return text


def read_table_file(
    path: Path, options: InboxOptions, data: bytes | None = None, line_offset: int = 0
) -> pl.DataFrame:
    """Read one inbox file as the table's rows, every value as text (None when empty).

    Raises ``UnreadableFileError`` naming the file, the line or row and the field when the file
    cannot be read as a table at all. ``line_offset`` is added to the numbers of data lines in
    messages: ``data`` is then a slice of a large file with its header lines in front.
    """
    name = path.name
    if data is None:
        data = path.read_bytes()
    if not data.strip():
        raise UnreadableFileError(f"{name}: the file is empty")
    if options.format_of(path) == "xlsx":
        sheet = _read_xlsx(path, name, options)
    else:
        frame = _columnar_reader()(data, name, options, line_offset)
        if frame is not None:
            return frame
        try:
            sheet = _read_csv(data, name, options)
        except csv.Error as error:
            raise UnreadableFileError(f"{name}: not a well-formed CSV file: {error}") from error
    _fill_merged(sheet)
    return _frame(sheet, name, options, line_offset)


def _check_csv_rows(
    name: str, labels: list[str | None], body: list[tuple[int, list[str | None]]]
) -> None:
    """A CSV row has the header's fields (empty fields after them, a `;` too many, aside); a
    short last line is what a file cut off in transfer looks like."""
    named = [column for column, label in enumerate(labels) if label is not None]
    expected = named[-1] + 1 if named else 0
    for number, row in body:
        extra = [value for value in row[expected:] if value is not None]
        if len(row) < expected or extra:
            raise UnreadableFileError(
                f"{name}: line {number} has {len(row)} fields where the header has {expected}"
                + (" (the file looks truncated)" if number == body[-1][0] else "")
            )


def _frame(sheet: _Sheet, name: str, options: InboxOptions, line_offset: int = 0) -> pl.DataFrame:
    header_at = options.title_rows
    while header_at < len(sheet.rows) and not any(sheet.rows[header_at]):
        header_at += 1  # blank rows between the title and the header
    header = sheet.rows[header_at : header_at + options.header_rows]
    if len(header) < options.header_rows or not any(header[0]):
        raise UnreadableFileError(
            f"{name}: no header at {sheet.row_label} {options.title_rows + 1} "
            f"(the file has {len(sheet.rows)} rows)"
        )
    labels = _header_labels(header, fill_right=not sheet.merged and sheet.row_label == "line")
    first_data = header_at + options.header_rows + options.skip_rows_after_header
    body: list[tuple[int, list[str | None]]] = []
    for index in range(first_data, len(sheet.rows)):
        row = sheet.rows[index]
        filled = [value for value in row if value is not None and value.strip()]
        if not filled:
            continue
        if options.footer_pattern and options.footer_pattern.search(filled[0].strip()):
            break
        body.append((index + 1 + line_offset, row))
    if not body:
        raise NoDataRowsError(f"{name}: no data rows under the header")

    # Columns without a label are kept only if they hold values (then the gate sees them).
    width = max(len(labels), *(len(row) for _, row in body))
    labels += [None] * (width - len(labels))
    used = [
        column
        for column in range(width)
        if labels[column] is not None
        or any(column < len(row) and row[column] is not None for _, row in body)
    ]
    if sheet.row_label == "line":
        _check_csv_rows(name, labels, body)
    names = _column_names(name, labels, used, options)
    seen = {column_name: column for column, column_name in names.items()}
    normalise = _Normaliser(options, sheet.decimal)
    cell_values = {spec.name: normalise(_cell_value(sheet, spec, name)) for spec in options.cells}
    for cell_name in cell_values:
        if cell_name in seen:
            raise UnreadableFileError(f"{name}: {cell_name!r} is both a column and a title cell")

    data: dict[str, list[str | None]] = {}
    problems: list[str | None] = [None] * len(body)
    for column, column_name in names.items():
        values = [row[column] if column < len(row) else None for _, row in body]
        if column_name in options.keep_as_text:
            data[column_name] = [v.strip() or None if v is not None else None for v in values]
            continue
        data[column_name] = [normalise(value) for value in values]
        for index, value in enumerate(values):
            reason = normalise.problem(value) if problems[index] is None else None
            if reason is not None:
                problems[index] = _read_problem(column_name, value, reason)
    for cell_name, value in cell_values.items():
        data[cell_name] = [value] * len(body)
    if any(problem is not None for problem in problems):
        data[READ_PROBLEM_COLUMN] = problems
    return pl.DataFrame(data, schema={column: pl.String for column in data})


def _read_problem(column: str, value: str | None, reason: str) -> str:
    """The gate's record of a value read only in part (``quality.gate.READ_PROBLEM_COLUMN``)."""
    text = None if value is None else value.strip()
    return json.dumps({"field": column, "value": text, "reason": reason}, ensure_ascii=False)


def _columnar_reader() -> Callable[..., pl.DataFrame]:
    # Imported when used: the column-wise reader builds on this module's helpers.
    from pipelines.extract.file_inbox.columnar import _csv_columnar

    return _csv_columnar
