"""Reading one inbox file (CSV or XLSX) into text columns named as the catalogue says."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from pipelines.extract.file_inbox.options import (
    DELIMITERS,
    DecimalMark,
    InboxOptions,
    NoDataRowsError,
    UnreadableFileError,
)
from pipelines.extract.file_inbox.sheet import (
    Normaliser,
    Sheet,
    cell_value,
    column_names,
    header_labels,
    read_problem,
)
from pipelines.extract.file_inbox.xlsx import read_xlsx
from quality.gate import READ_PROBLEM_COLUMN

log = logging.getLogger(__name__)


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


def _read_csv(data: bytes, name: str, options: InboxOptions) -> Sheet:
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
    return Sheet(rows=rows, row_label="line", decimal=decimal)


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
        sheet = read_xlsx(path, name, options)
    else:
        frame = _columnar_reader()(data, name, options, line_offset)
        if frame is not None:
            return frame
        try:
            sheet = _read_csv(data, name, options)
        except csv.Error as error:
            raise UnreadableFileError(f"{name}: not a well-formed CSV file: {error}") from error
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


def _frame(sheet: Sheet, name: str, options: InboxOptions, line_offset: int = 0) -> pl.DataFrame:
    header_at = options.title_rows
    while header_at < len(sheet.rows) and not any(sheet.rows[header_at]):
        header_at += 1  # blank rows between the title and the header
    header = sheet.rows[header_at : header_at + options.header_rows]
    if len(header) < options.header_rows or not any(header[0]):
        raise UnreadableFileError(
            f"{name}: no header at {sheet.row_label} {options.title_rows + 1} "
            f"(the file has {len(sheet.rows)} rows)"
        )
    labels = header_labels(header, fill_right=not sheet.merged and sheet.row_label == "line")
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
    names = column_names(name, labels, used, options)
    seen = {column_name: column for column, column_name in names.items()}
    normalise = Normaliser(options, sheet.decimal)
    cell_values = {spec.name: normalise(cell_value(sheet, spec, name)) for spec in options.cells}
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
                problems[index] = read_problem(column_name, value, reason)
    for cell_name, value in cell_values.items():
        data[cell_name] = [value] * len(body)
    if any(problem is not None for problem in problems):
        data[READ_PROBLEM_COLUMN] = problems
    return pl.DataFrame(data, schema={column: pl.String for column in data})


def _columnar_reader() -> Callable[..., pl.DataFrame]:
    # Imported when used: the column-wise reader builds on this module's helpers.
    from pipelines.extract.file_inbox.columnar import _csv_columnar

    return _csv_columnar
