"""A file inbox's options, as the catalogue gives them, checked."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from maglumat.catalogue import CatalogueError
from pipelines.extract import kind_options

if TYPE_CHECKING:
    from maglumat.catalogue import SourceSystem, SourceTable

log = logging.getLogger(__name__)


CHECKSUM_PREFIX = "sha256:"
CONTENT_PREFIX = "rows:"
DEFAULT_ENCODINGS = ("utf-8-sig", "cp1251")
DELIMITERS = (",", ";", "\t", "|")
REASON_SUFFIX = ".reason.txt"
# Digit groups separated by a space, a no-break space or a narrow no-break space ("1 234,5").
_GROUPED = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+"
_COMMA_NUMBER = re.compile(rf"^[+-]?(?:{_GROUPED}|\d+)(?:,\d+)?$")
_POINT_NUMBER = re.compile(rf"^[+-]?{_GROUPED}(?:\.\d+)?$")
# In a decimal-comma file: points that group digits in threes ("12.345", "1.234.567,5"), and a
# number with one point that cannot be such a group ("12.5", "1 234.56").
_DOTTED_GROUPS = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_POINT_IN_COMMA_FILE = re.compile(rf"^[+-]?(?:{_GROUPED}|\d+)\.\d+$")
_GROUP_SEPARATORS = re.compile(r"[ \u00a0\u202f]")
_CELL_ADDRESS = re.compile(r"^([A-Z]{1,3})([1-9][0-9]*)$")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")

FileFormat = Literal["csv", "xlsx"]
DecimalMark = Literal["auto", "comma", "point"]


class UnreadableFileError(ValueError):
    """A file that cannot be read as the table; the message names the file, row and field."""


class NoDataRowsError(UnreadableFileError):
    """A file (or a slice of a large one) with a header and no data rows under it."""


@dataclass(frozen=True)
class CellField:
    """A value above the table (a form's period, its date) repeated on every row."""

    name: str
    pattern: re.Pattern[str]
    cell: tuple[int, int] | None = None  # (row, column), 1-based: an XLSX address
    row: int | None = None  # 1-based row or line whose whole text is matched

    @property
    def where(self) -> str:
        if self.cell is not None:
            return f"cell {_column_letters(self.cell[1])}{self.cell[0]}"
        return f"row {self.row}"


INBOX_OPTION_NAMES = frozenset(
    {
        "pattern", "format", "encodings", "delimiter", "decimal", "title_rows", "header_rows",
        "skip_rows_after_header", "sheet", "columns", "cells", "footer_pattern", "date_formats",
        "timezone", "keep_as_text", "settle_seconds", "incomplete_wait_seconds",
        "stream_above_bytes", "stream_slice_bytes",
        "processed_dir", "rejected_dir",  # system options, read where the files go (files.py)
    }
)  # fmt: skip


def check_options(system: SourceSystem, table: SourceTable) -> None:
    """Raise, naming the catalogue entry, when a table's options are not ones this reads."""
    InboxOptions.of(system, table)


@dataclass(frozen=True)
class InboxOptions:
    """How the files of one table are found and read (see the module docstring)."""

    patterns: tuple[str, ...]
    format: FileFormat | None = None
    encodings: tuple[str, ...] = DEFAULT_ENCODINGS
    delimiter: str | None = None
    decimal: DecimalMark = "auto"
    title_rows: int = 0
    header_rows: int = 1
    skip_rows_after_header: int = 0
    sheet: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)  # normalised label -> name
    cells: tuple[CellField, ...] = ()
    footer_pattern: re.Pattern[str] | None = None
    date_formats: tuple[str, ...] = ()
    timezone: str | None = None
    keep_as_text: frozenset[str] = frozenset()
    settle_seconds: float = 0.0
    incomplete_wait_seconds: float = 600.0
    stream_above_bytes: int = 64 << 20
    stream_slice_bytes: int = 32 << 20

    @classmethod
    def of(cls, system: SourceSystem, table: SourceTable) -> InboxOptions:
        """The table's options over the system's, checked; errors name the catalogue entry."""
        where = f"{system.catalogue_file}, system {system.name}, table {table.name}"
        if table.mode != "append":
            # Each file hands over new rows itself; a cursor or a full copy makes no sense here.
            raise CatalogueError(
                f"{where}: a file inbox table has mode 'append', not {table.mode!r}"
            )
        try:
            return cls._parse(kind_options(system, table, INBOX_OPTION_NAMES))
        except (KeyError, TypeError, ValueError, re.error) as error:
            raise CatalogueError(f"{where}: file_inbox options: {error}") from error

    @classmethod
    def _parse(cls, raw: Mapping[str, Any]) -> InboxOptions:
        patterns = raw.get("pattern")
        patterns = [patterns] if isinstance(patterns, str) else list(patterns or [])
        if not patterns or not all(isinstance(p, str) and p and "/" not in p for p in patterns):
            raise ValueError("`pattern` (a glob of file names in the inbox, or a list) is required")
        file_format = raw.get("format")
        if file_format not in (None, "csv", "xlsx"):
            raise ValueError(f"format must be csv or xlsx, not {file_format!r}")
        decimal = raw.get("decimal", "auto")
        if decimal not in ("auto", "comma", "point"):
            raise ValueError(f"decimal must be auto, comma or point, not {decimal!r}")
        encodings = raw.get("encodings", DEFAULT_ENCODINGS)
        if isinstance(encodings, str):
            encodings = [encodings]
        for encoding in encodings:
            "".encode(encoding)  # LookupError (a ValueError) for an unknown codec
        delimiter = raw.get("delimiter")
        if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
            raise ValueError(f"delimiter must be one character, not {delimiter!r}")
        columns = {
            _label_key(str(label)): str(name) for label, name in (raw.get("columns") or {}).items()
        }
        cells = tuple(
            _parse_cell(str(name), spec) for name, spec in (raw.get("cells") or {}).items()
        )
        footer = raw.get("footer_pattern")
        timezone = raw.get("timezone")
        if timezone is not None:
            ZoneInfo(str(timezone))
        counts = {
            key: int(raw.get(key, default))
            for key, default in (
                ("title_rows", 0),
                ("header_rows", 1),
                ("skip_rows_after_header", 0),
            )
        }
        if (
            counts["header_rows"] < 1
            or counts["title_rows"] < 0
            or counts["skip_rows_after_header"] < 0
        ):
            raise ValueError("header_rows must be at least 1; title and skipped rows not negative")
        return cls(
            patterns=tuple(patterns),
            format=file_format,
            encodings=tuple(str(encoding) for encoding in encodings),
            delimiter=delimiter,
            decimal=decimal,
            title_rows=counts["title_rows"],
            header_rows=counts["header_rows"],
            skip_rows_after_header=counts["skip_rows_after_header"],
            sheet=None if raw.get("sheet") is None else str(raw["sheet"]),
            columns=columns,
            cells=cells,
            footer_pattern=re.compile(str(footer)) if footer else None,
            date_formats=tuple(str(f) for f in raw.get("date_formats") or ()),
            timezone=None if timezone is None else str(timezone),
            keep_as_text=frozenset(str(c) for c in raw.get("keep_as_text") or ()),
            settle_seconds=float(raw.get("settle_seconds", 0)),
            incomplete_wait_seconds=float(raw.get("incomplete_wait_seconds", 600)),
            stream_above_bytes=_positive(raw, "stream_above_bytes", 64 << 20),
            stream_slice_bytes=_positive(raw, "stream_slice_bytes", 32 << 20),
        )

    def format_of(self, path: Path) -> FileFormat:
        if self.format is not None:
            return self.format
        return "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv"


def _positive(raw: Mapping[str, Any], key: str, default: int) -> int:
    value = int(raw.get(key, default))
    if value < 1:
        raise ValueError(f"{key} must be a positive number of bytes, not {value}")
    return value


def _parse_cell(name: str, spec: Any) -> CellField:
    if not isinstance(spec, Mapping) or "pattern" not in spec:
        raise ValueError(f"cells.{name} needs a `pattern` and a `cell` or a `row`")
    pattern = re.compile(str(spec["pattern"]))
    if pattern.groups != 1:
        raise ValueError(f"cells.{name}: the pattern must have exactly one group")
    if "cell" in spec:
        match = _CELL_ADDRESS.match(str(spec["cell"]).upper())
        if not match:
            raise ValueError(f"cells.{name}: {spec['cell']!r} is not a cell address like C3")
        return CellField(name, pattern, cell=(int(match[2]), _column_number(match[1])))
    return CellField(name, pattern, row=int(spec["row"]))


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _label_key(label: str) -> str:
    """Header labels match whatever their case and spacing (a BOM or a no-break space)."""
    return " ".join(label.replace("\ufeff", "").split()).casefold()
