"""An inbox file as a sheet of text cells, and how its header, column names, title cells and
values are read from it (the same for CSV and XLSX, row by row and column-wise)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from pipelines.extract.file_inbox.options import (
    _COMMA_NUMBER,
    _DATE_LIKE,
    _DOTTED_GROUPS,
    _GROUP_SEPARATORS,
    _POINT_IN_COMMA_FILE,
    _POINT_NUMBER,
    CellField,
    DecimalMark,
    InboxOptions,
    UnreadableFileError,
    _column_letters,
    _label_key,
)


@dataclass
class Sheet:
    """A file as rows of text cells (None for empty), before the header is interpreted."""

    rows: list[list[str | None]]
    row_label: str  # "line" for CSV, "row" for XLSX: how messages name a position
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based, inclusive
    decimal: DecimalMark = "point"


def header_labels(header: list[list[str | None]], fill_right: bool) -> list[str | None]:
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


def cell_value(sheet: Sheet, spec: CellField, name: str) -> str:
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


def column_names(
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


class Normaliser:
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


def read_problem(column: str, value: str | None, reason: str) -> str:
    """The gate's record of a value read only in part (``quality.gate.READ_PROBLEM_COLUMN``)."""
    text = None if value is None else value.strip()
    return json.dumps({"field": column, "value": text, "reason": reason}, ensure_ascii=False)
