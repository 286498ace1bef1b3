"""The file inbox extractor (kind ``file_inbox``): files a ministry drops into a directory.

The system's connection is the inbox directory (``file:///abs/path`` or a plain path). Each table
names the files that are its own with a glob ``pattern`` and says how to read them (``format``
``csv`` or ``xlsx`` and the options below, under the table's or the system's ``options:``). Every
file is one batch (mode ``append``), landed with the file's name as ``source_file`` and with
every value kept as read, as text (the gate's schema contract casts it); only decimal commas,
digit grouping and dates in a declared local format are normalised, so the contract can read
them.

Nothing is ever lost or landed twice:

* a file leaves the inbox only after its batch is committed (``on_landed``), moved to
  ``processed/`` beside the inbox; a name already there is never overwritten;
* the batch's ``cursor_to`` is ``sha256:<checksum of the file>``, so a file whose content is
  already in the landing zone (a crash between landing and moving, or the same file sent twice)
  is moved without being landed again;
* a file that cannot be read as a table (empty, binary, truncated, wrong sheet, ragged rows) is
  moved to ``rejected/`` with ``<name>.reason.txt`` beside it naming the file, the line or cell
  and what is wrong;
* one extraction at a time per table (a lock in the landing zone), so two runs never land the
  same file twice.

Options (table options override system options):

``pattern``
    glob (or list of globs) of the table's files in the inbox, e.g. ``fek_*.csv`` (required).
    The patterns of a system's tables must not overlap: a file feeds one table.
``format``
    ``csv`` or ``xlsx`` (default: from the file's suffix).
``encodings``
    CSV encodings the files may be in (default ``[utf-8-sig, cp1251]``; a BOM is dropped). A
    file that is valid UTF-8 is read as UTF-8; otherwise the first other encoding that decodes
    it. A file mixing UTF-8 lines with others is rejected naming both lines. One encoding
    listed alone is used as declared.
``delimiter``
    CSV separator; detected from the header line among ``, ; tab |`` when absent.
``decimal``
    ``comma``, ``point`` or ``auto`` (default: point when commas separate the fields; else comma
    if any number of the file is written with one, else point; point for XLSX text cells, whose
    numbers are numbers already). In a decimal-comma file a point groups digits in threes
    ("12.345" is 12345) or makes the row's value unreadable: the row is quarantined, never
    read with a decimal point.
``title_rows``
    rows (lines) above the header, e.g. a form's title and period (default 0).
``header_rows``
    rows the header spans; levels of a merged header are joined with `` / `` (default 1).
``skip_rows_after_header``
    rows between the header and the data, e.g. a row of column numbers (default 0).
``sheet``
    XLSX sheet name (default: the first sheet).
``columns``
    header label (case and spacing ignored) to column name; several labels may name the same
    column, e.g. the Russian header of an old export and the Turkmen one of the new system.
    Labels not listed are kept as read, so the gate holds a batch whose layout changed.
``cells``
    values above the table repeated on every row, e.g. ``{report_month: {cell: C3, pattern:
    '(\\d{4}-\\d{2})'}}``; ``cell`` is an XLSX address, ``row`` a 1-based row or line whose whole
    text is matched; ``pattern`` has one group.
``footer_pattern``
    a row whose first filled cell matches this regular expression ends the table (totals,
    signatures). Blank rows are skipped, never the end of the table, so no row is dropped.
``date_formats``
    strptime formats of dates and times in an old export (e.g. ``%d.%m.%Y``), rewritten as ISO.
``timezone``
    zone of those local times (e.g. ``Asia/Ashgabat``): the ISO text then carries the offset.
``keep_as_text``
    columns whose values are never normalised (codes that look like numbers).
``settle_seconds``
    leave files younger than this alone: they may still be being written (default 0). A file
    whose size or modification time changes while it is read waits for the next run too.
``incomplete_wait_seconds``
    a CSV file whose last line has no line end is being written or was cut off: it waits this
    long after its last change, then is rejected as cut off (default 600).
``processed_dir``, ``rejected_dir``
    system options; default ``processed`` and ``rejected`` beside the inbox.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import fcntl
import fnmatch
import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
import stat
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import polars as pl

from maglumat import clock
from pipelines.catalogue import CatalogueError
from pipelines.extract import Extract, ExtractRequest, StagedRows, inbox_streaming
from pipelines.landing import list_batches, rejections
from quality.gate import READ_PROBLEM_COLUMN

if TYPE_CHECKING:
    from maglumat.contracts import BatchManifest
    from maglumat.settings import MaglumatPaths
    from pipelines.catalogue import SourceSystem, SourceTable

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
        raw = {**system.options, **table.options}
        try:
            return cls._parse(raw)
        except (KeyError, TypeError, ValueError, re.error) as error:
            raise CatalogueError(f"{where}: file_inbox options: {error}") from error

    @classmethod
    def _parse(cls, raw: Mapping[str, Any]) -> InboxOptions:
        unknown = sorted(set(raw) - INBOX_OPTION_NAMES)
        if unknown:
            raise ValueError(
                f"unknown options {unknown} (a misspelling?); known: {sorted(INBOX_OPTION_NAMES)}"
            )
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


# --- where the files are --------------------------------------------------------------------


def inbox_directory(connection: str) -> Path:
    """The inbox a connection string names: ``file:///abs/path`` or a plain path."""
    if connection.startswith("file:"):
        parts = urlsplit(connection)
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"{connection}: only local inboxes (file:///path) are supported")
        return Path(unquote(parts.path)).expanduser()
    return Path(connection).expanduser()


def _sibling(system: SourceSystem, inbox: Path, option: str, default: str) -> Path:
    folder = Path(str(system.options.get(option) or default)).expanduser()
    return folder if folder.is_absolute() else inbox.parent / folder


def processed_directory(system: SourceSystem, inbox: Path) -> Path:
    """Where files go once their batch is landed (``processed`` beside the inbox)."""
    return _sibling(system, inbox, "processed_dir", "processed")


def rejected_directory(system: SourceSystem, inbox: Path) -> Path:
    """Where unreadable files go, each with a ``.reason.txt`` (``rejected`` beside the inbox)."""
    return _sibling(system, inbox, "rejected_dir", "rejected")


def pending_files(inbox: Path, options: InboxOptions, now: float | None = None) -> list[Path]:
    """Files of the table waiting in the inbox, in order of arrival (mtime, then name).

    Hidden files and files younger than ``settle_seconds`` (perhaps still being written) wait.
    """
    if not inbox.is_dir():
        return []
    # The operating system's clock, not maglumat.clock: it is compared with the file's mtime,
    # which that clock stamped.
    now = time.time() if now is None else now
    found = []
    matching = {path for pattern in options.patterns for path in inbox.glob(pattern)}
    for path in matching:
        if path.name.startswith((".", "~$")):
            continue
        try:
            status = path.stat()
        except FileNotFoundError:  # moved away since the listing (another run took it)
            continue
        if not stat.S_ISREG(status.st_mode):
            continue
        if now - status.st_mtime < options.settle_seconds:
            continue
        found.append((status.st_mtime_ns, path.name, path))
    return [path for _, _, path in sorted(found)]


@dataclass(frozen=True)
class Look:
    """What reading a file's bytes saw, for the checks before it is landed."""

    size: int
    blank: bool  # nothing but whitespace
    ends_with_line_end: bool
    line_ends: int

    @classmethod
    def of(cls, data: bytes) -> Look:
        return cls(
            size=len(data),
            blank=not data.strip(),
            ends_with_line_end=data.endswith((b"\n", b"\r")),
            line_ends=data.count(b"\n"),
        )


def _still_being_written(
    path: Path, before: os.stat_result, look: Look, options: InboxOptions
) -> str | None:
    """``"wait"`` for a file that may still be being written, the reason to reject a file that
    was cut off, or None for a complete file.

    Two looks: the size and modification time before and after reading must agree with what
    was read (a writer at work changes them). A CSV file ends with a line end; one that does
    not is waited for while it is younger than ``incomplete_wait_seconds``, then rejected as
    cut off in transfer (landing it would publish a partial day)."""
    try:
        after = path.stat()
    except FileNotFoundError:
        return "wait"
    if (after.st_size, after.st_mtime_ns) != (
        before.st_size,
        before.st_mtime_ns,
    ) or look.size != after.st_size:
        log.info("%s is still being written; left for the next run", path.name)
        return "wait"
    if options.format_of(path) != "csv" or look.blank or look.ends_with_line_end:
        return None
    # The operating system's clock, as in pending_files: compared with the file's mtime.
    age = time.time() - after.st_mtime
    if age < options.incomplete_wait_seconds:
        log.info("%s does not end with a line end yet; left for the next run", path.name)
        return "wait"
    last_line = look.line_ends + 1
    return (
        f"{path.name}: line {last_line} does not end with a line end, and the file has not "
        f"changed for {age:.0f} s: it looks cut off in transfer; send it again whole"
    )


def _checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


CONTENT_DIGEST_STEP = 200_000  # rows written to text at a time for the digest


def _content_digest(frame: pl.DataFrame) -> str:
    """A digest of the rows as read: the same for a file saved again with a byte order mark,
    other line ends, quoting or encoding, so such a copy is not landed as a correction."""
    step = CONTENT_DIGEST_STEP
    return content_digest_of(
        frame.columns, (frame.slice(offset, step) for offset in range(0, frame.height, step))
    )


def content_digest_of(columns: Sequence[str], slices: Iterable[pl.DataFrame]) -> str:
    """``_content_digest`` of the rows given slice by slice (any slicing gives the same)."""
    digest = hashlib.sha256("\x1f".join(columns).encode("utf-8"))
    for rows in slices:
        digest.update(rows.write_csv(include_header=False).encode("utf-8"))
    return f"{CONTENT_PREFIX}{digest.hexdigest()}"


def landed_checksums(landing_root: Path, system: str, table: str) -> dict[str, str]:
    """Checksums of the files landed for the table (their bytes and their rows), to their batch
    id. A batch the steward rejected for extraction again is left out: the file sent again
    (corrected or not) is landed again, as the steward asked."""
    again = {
        batch_id
        for batch_id, rejection in rejections(landing_root, system, table).items()
        if rejection.extract_again
    }
    found: dict[str, str] = {}
    for manifest in list_batches(landing_root, system, table):
        if not manifest.cursor_to or manifest.batch_id in again:
            continue
        for part in manifest.cursor_to.split():
            if part.startswith((CHECKSUM_PREFIX, CONTENT_PREFIX)):
                found[part.removeprefix(CHECKSUM_PREFIX)] = manifest.batch_id
    return found


def move_without_overwrite(source: Path, folder: Path, tag: str | None = None) -> Path:
    """Move ``source`` into ``folder``; a name already there gets ``tag`` (or a counter) added.

    Uses a hard link then an unlink: the target name is never overwritten, and at every moment
    the file exists under at least one of the two names.
    """
    folder.mkdir(parents=True, exist_ok=True)
    candidates = [source.name]
    if tag:
        candidates.append(f"{source.stem}.{tag}{source.suffix}")
    candidates += [f"{source.stem}.{secrets.token_hex(3)}{source.suffix}" for _ in range(5)]
    for name in candidates:
        target = folder / name
        try:
            os.link(source, target)
        except FileExistsError:
            continue
        except OSError:  # no hard links here (another file system): move, after a check
            if target.exists():
                continue
            shutil.move(source, target)
            return target
        source.unlink()
        return target
    raise FileExistsError(f"could not find a free name for {source.name} in {folder}")


def reject_file(source: Path, folder: Path, reason: str) -> Path:
    """Move an unreadable file to ``folder`` with ``<name>.reason.txt`` saying what is wrong."""
    folder.mkdir(parents=True, exist_ok=True)
    # The reason is written first: a crash before the move leaves the file in the inbox, to be
    # judged again, never a rejected file without its reason.
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    scratch = folder / f".{source.name}.{secrets.token_hex(3)}{REASON_SUFFIX}"
    scratch.write_text(
        f"file: {source.name}\nrejected at: {stamp}\nreason: {reason}\n", encoding="utf-8"
    )
    target = move_without_overwrite(source, folder, tag=stamp)
    reason_path = target.with_name(target.name + REASON_SUFFIX)
    os.replace(scratch, reason_path)
    return target


def rejected_files(system: SourceSystem, paths: MaglumatPaths | None = None) -> dict[str, str]:
    """Files of a system that were rejected, with the reason recorded beside each."""
    folder = rejected_directory(system, inbox_directory(system.connection(paths)))
    if not folder.is_dir():
        return {}
    return {
        reason.name.removesuffix(REASON_SUFFIX): reason.read_text(encoding="utf-8")
        for reason in sorted(folder.glob(f"*{REASON_SUFFIX}"))
        if not reason.name.startswith(".")
    }


# --- reading one file -----------------------------------------------------------------------


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
        frame = _csv_columnar(data, name, options, line_offset)
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


# --- the extractor --------------------------------------------------------------------------


@contextlib.contextmanager
def _table_lock(landing_root: Path, system: str, table: str) -> Iterator[None]:
    """One extraction of a table's inbox at a time (a sensor run and the schedule may overlap)."""
    folder = landing_root / system / table
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".inbox.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _mover(
    path: Path,
    folder: Path,
    read: os.stat_result,
    landed: dict[str, str],
    digest: str,
    content: str,
) -> Callable[[BatchManifest], None]:
    def move(manifest: BatchManifest) -> None:
        landed[digest] = manifest.batch_id
        landed[content] = manifest.batch_id
        try:
            current = path.stat()
        except FileNotFoundError:
            log.warning("%s vanished after batch %s was landed", path, manifest.batch_id)
            return
        if (current.st_size, current.st_mtime_ns) != (read.st_size, read.st_mtime_ns):
            # Rewritten since it was read: it stays, and its new content is read next time.
            log.warning(
                "%s changed after batch %s was landed; left in the inbox", path, manifest.batch_id
            )
            return
        target = move_without_overwrite(path, folder, tag=manifest.batch_id)
        log.info("%s landed as batch %s, moved to %s", path.name, manifest.batch_id, target)

    return move


def extract(request: ExtractRequest) -> Iterator[Extract]:
    """One batch per new file of the table in the inbox, oldest first."""
    system, table = request.system, request.table
    options = InboxOptions.of(system, table)
    inbox = inbox_directory(request.connection)
    if not inbox.is_dir():
        raise FileNotFoundError(
            f"{system.name}: inbox {inbox} does not exist (set {system.connection_env})"
        )
    processed = processed_directory(system, inbox)
    rejected = rejected_directory(system, inbox)
    others = {
        other.name: InboxOptions.of(system, other).patterns
        for other in system.tables
        if other.name != table.name
    }
    with _table_lock(request.paths.landing, system.name, table.name):
        # Slices of large files are written here before landing; what is left is debris of a
        # run that stopped.
        staging = request.paths.landing / system.name / table.name / ".staging"
        shutil.rmtree(staging, ignore_errors=True)
        landed = landed_checksums(request.paths.landing, system.name, table.name)
        for path in pending_files(inbox, options):
            claimed = [
                name
                for name, patterns in others.items()
                if any(fnmatch.fnmatchcase(path.name, pattern) for pattern in patterns)
            ]
            if claimed:
                # A file moves once: two tables reading it would race to move it.
                raise CatalogueError(
                    f"{system.catalogue_file}, system {system.name}: {path.name} matches the "
                    f"patterns of tables {table.name} and {', '.join(claimed)}"
                )
            status = path.stat()
            large = _reads_in_slices(path, status, options)
            if large:
                survey = inbox_streaming.survey(path, options)
                look, digest = survey.look, survey.checksum
            else:
                data = path.read_bytes()
                look, digest = Look.of(data), _checksum(data)
            cut_off = _still_being_written(path, status, look, options)
            if cut_off == "wait":
                continue
            if digest in landed:
                # Landed before (a run stopped before moving it, or the same file sent again).
                target = move_without_overwrite(path, processed, tag=landed[digest])
                log.info("%s is already batch %s; moved to %s", path.name, landed[digest], target)
                continue
            frame: pl.DataFrame | None = None
            staged: StagedRows | None = None
            try:
                if large:
                    if cut_off is not None:
                        raise UnreadableFileError(cut_off)
                    staged, content = inbox_streaming.read_in_slices(
                        path, options, survey, staging / path.name
                    )
                else:
                    frame = read_table_file(path, options, data)
                    if cut_off is not None:
                        raise UnreadableFileError(cut_off)
                    content = _content_digest(frame)
            except UnreadableFileError as error:
                target = reject_file(path, rejected, str(error))
                log.warning("rejected %s: %s", target, error)
                continue
            if content in landed:
                if staged is not None:
                    staged.path.unlink()
                target = move_without_overwrite(path, processed, tag=landed[content])
                log.info(
                    "%s holds the rows of batch %s (saved again: other bytes, same rows);"
                    " moved to %s",
                    path.name,
                    landed[content],
                    target,
                )
                continue
            yield Extract(
                frame=frame,
                staged=staged,
                cursor_from=None,
                cursor_to=f"{CHECKSUM_PREFIX}{digest} {content}",
                source_file=path.name,
                on_landed=_mover(path, processed, status, landed, digest, content),
            )


def _reads_in_slices(path: Path, status: os.stat_result, options: InboxOptions) -> bool:
    """Whether the file is read slice by slice (``inbox_streaming``): a large CSV file whose
    table ends with the file (a footer row ends it otherwise, which slices cannot see)."""
    return (
        options.format_of(path) == "csv"
        and options.footer_pattern is None
        and status.st_size >= options.stream_above_bytes
    )


# --- large CSV files, column-wise ---------------------------------------------------------------

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
    labels = _header_labels(header, fill_right=True)

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
    names = _column_names(name, labels, used, options)
    seen = {column_name: column for column, column_name in names.items()}
    decimal = options.decimal
    if decimal == "auto":
        decimal = _decimal_mark_of(text, delimiter)
    normalise = _Normaliser(options, decimal)
    sheet = _Sheet(rows=rows_above, row_label="line", decimal=decimal)
    cell_values = {spec.name: normalise(_cell_value(sheet, spec, name)) for spec in options.cells}
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
                        else _read_problem(name, value, reason)
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
