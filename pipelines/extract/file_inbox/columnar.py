"""Large CSV files read column-wise: the same values as row by row, much faster."""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from quality.gate import READ_PROBLEM_COLUMN

if TYPE_CHECKING:
    pass
from pipelines.extract.file_inbox.options import (
    DELIMITERS,
    InboxOptions,
    NoDataRowsError,
    UnreadableFileError,
)
from pipelines.extract.file_inbox.reading import (
    _decimal_mark_of,
    _decode,
    _delimiter,
)
from pipelines.extract.file_inbox.sheet import (
    Normaliser,
    Sheet,
    cell_value,
    column_names,
    header_labels,
    read_problem,
)

log = logging.getLogger(__name__)


# Characters that make Python's line splitting differ from the csv module's records.
_OTHER_LINE_BREAKS = re.compile("[\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_VISIBLE_ASCII = "[!-~]"  # a value holding one of these is not blank
COLUMNAR_MIN_LINES = 1000  # smaller files are read row by row: as fast, and the reference


def _present(values: pl.Series) -> pl.Series:
    """The values the csv reading keeps: missing and whitespace-only (``str.strip``) as None."""
    unsure = values.filter(values.is_not_null() & ~values.str.contains(_VISIBLE_ASCII))
    blank = [value for value in unsure.unique().to_list() if not value.strip()]
    if not blank:
        return values
    blanked = pl.when(values.is_in(blank)).then(None).otherwise(values)
    return pl.select(blanked).to_series().alias(values.name)


def _map_distinct(values: pl.Series, function: Callable[[str], str | None]) -> pl.Series:
    """``function`` of every value, computed once per distinct value."""
    distinct = values.drop_nulls().unique()
    if distinct.is_empty():
        return pl.Series(values.name, [None] * len(values), dtype=pl.String)
    mapped = pl.Series([function(value) for value in distinct.to_list()], dtype=pl.String)
    return values.replace_strict(distinct, mapped, default=None, return_dtype=pl.String)


def _csv_columnar(
    data: bytes, name: str, options: InboxOptions, line_offset: int = 0
) -> pl.DataFrame | None:
    """A large CSV file's table read column-wise (polars), exactly as ``_frame`` reads rows.

    Returns None when the file needs the csv module: quoted fields, carriage returns that end
    no line, other line breaks, title cells below the header, or a small file. Values are
    normalised once per distinct value by the same function as row by row.
    """
    text, _ = _decode(data, name, options.encodings)
    if '"' in text or text.count("\r") != text.count("\r\n") or _OTHER_LINE_BREAKS.search(text):
        return None
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the end of the last line starts no record
    if len(lines) < COLUMNAR_MIN_LINES:
        return None
    header_line = options.title_rows
    while header_line < len(lines) and not lines[header_line].strip():
        header_line += 1
    if header_line >= len(lines):
        return None
    delimiter = options.delimiter or _delimiter(lines[header_line], DELIMITERS)

    def record(index: int) -> list[str | None]:
        fields = next(csv.reader([lines[index]], delimiter=delimiter, strict=True), [])
        return [value if value.strip() else None for value in fields]

    header_at = options.title_rows
    while header_at < len(lines) and not any(record(header_at)):
        header_at += 1
    first_data = header_at + options.header_rows + options.skip_rows_after_header
    if first_data >= len(lines) or any(
        (spec.cell[0] if spec.cell else spec.row or 1) > first_data for spec in options.cells
    ):
        return None
    rows_above = [record(index) for index in range(first_data)]
    header = rows_above[header_at : header_at + options.header_rows]
    if len(header) < options.header_rows or not any(header[0]):
        return None
    labels = header_labels(header, fill_right=True)

    body_lines = pl.Series(lines[first_data:], dtype=pl.String)
    if (body_lines.str.len_chars().max() or 0) > csv.field_size_limit():
        return None
    # A line has one field more than separators; an empty line has none (as the csv module).
    field_counts = (
        body_lines.str.count_matches(delimiter, literal=True)
        + body_lines.str.len_chars().clip(0, 1)
    ).cast(pl.Int64)
    fields = int(field_counts.max() or 0)
    if fields == 0:
        return None
    try:
        body = pl.read_csv(
            "\n".join(lines[first_data:]).encode("utf-8"),
            has_header=False,
            separator=delimiter,
            quote_char=None,
            schema={f"field_{index}": pl.String for index in range(fields)},
        )
    except pl.exceptions.PolarsError:
        return None
    if body.height != len(body_lines):
        return None  # polars skipped or split a line: the csv module decides
    present = pl.DataFrame([_present(body.to_series(index)) for index in range(fields)])
    keep = present.select(pl.any_horizontal(pl.all().is_not_null())).to_series()
    if options.footer_pattern is not None:
        footer = options.footer_pattern
        first_filled = present.select(pl.coalesce(pl.all())).to_series()
        ends_table = _map_distinct(
            first_filled, lambda value: "" if footer.search(value.strip()) else None
        )
        footer_rows = (ends_table.is_not_null() & keep).arg_true()
        if len(footer_rows):
            keep = keep & (pl.int_range(0, body.height, eager=True) < footer_rows[0])
    kept = keep.arg_true()
    if kept.is_empty():
        raise NoDataRowsError(f"{name}: no data rows under the header")
    numbers = kept.cast(pl.Int64) + first_data + 1 + line_offset
    counts = field_counts.gather(kept)
    width = max(len(labels), int(counts.max() or 0))
    labels += [None] * (width - len(labels))
    cells = [
        present.to_series(column).gather(kept)
        if column < fields
        else pl.Series([None] * len(kept), dtype=pl.String)
        for column in range(width)
    ]
    used = [
        column
        for column in range(width)
        if labels[column] is not None or cells[column].null_count() < len(kept)
    ]
    named = [column for column, label in enumerate(labels) if label is not None]
    expected = named[-1] + 1 if named else 0
    ragged = counts < expected
    for column in range(expected, width):
        ragged = ragged | cells[column].is_not_null()
    if ragged.any():
        position = int(ragged.arg_true()[0])
        raise UnreadableFileError(
            f"{name}: line {numbers[position]} has {counts[position]} fields where the header "
            f"has {expected}" + (" (the file looks truncated)" if position == len(kept) - 1 else "")
        )
    names = column_names(name, labels, used, options)
    seen = {column_name: column for column, column_name in names.items()}
    decimal = options.decimal
    if decimal == "auto":
        decimal = _decimal_mark_of(text, delimiter)
    normalise = Normaliser(options, decimal)
    sheet = Sheet(rows=rows_above, row_label="line", decimal=decimal)
    cell_values = {spec.name: normalise(cell_value(sheet, spec, name)) for spec in options.cells}
    for cell_name in cell_values:
        if cell_name in seen:
            raise UnreadableFileError(f"{name}: {cell_name!r} is both a column and a title cell")
    columns: list[pl.Series] = []
    problems: list[pl.Series] = []
    for column, column_name in names.items():
        if column_name in options.keep_as_text:
            values = _map_distinct(cells[column], lambda value: value.strip() or None)
        else:
            values = _map_distinct(cells[column], normalise)
            problems.append(
                _map_distinct(
                    cells[column],
                    lambda value, name=column_name: (
                        None
                        if (reason := normalise.problem(value)) is None
                        else read_problem(name, value, reason)
                    ),
                )
            )
        columns.append(values.alias(column_name))
    for cell_name, value in cell_values.items():
        columns.append(pl.Series(cell_name, [value] * len(kept), dtype=pl.String))
    first_problem = pl.select(pl.coalesce(problems)).to_series() if problems else None
    if first_problem is not None and first_problem.null_count() < len(first_problem):
        columns.append(first_problem.alias(READ_PROBLEM_COLUMN))
    return pl.DataFrame(columns)
