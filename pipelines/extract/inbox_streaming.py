"""Large CSV files of a file inbox, read in slices: memory follows the slice, not the file.

A CSV file of at least ``stream_above_bytes`` (default 64 MiB) is read in two passes.

1. ``survey`` reads the bytes once, in blocks: the checksum, what the two looks before landing
   need (size, a final line end), and the evidence for the file's encoding and decimal mark,
   decided for the whole file by the same rules as a small file's (valid UTF-8 is UTF-8, a
   file mixing UTF-8 lines with others is refused naming both lines, a decimal comma anywhere
   makes the file a decimal-comma file).
2. ``read_in_slices`` cuts the file at line ends (never inside a quoted field) into slices of
   about ``stream_slice_bytes``, reads each with the file's header lines in front of it through
   the same readers as a small file (``file_inbox.read_table_file``), and writes it to a
   Parquet part; DuckDB joins the parts into one staged Parquet file, which is landed as the
   batch. Rows, columns, messages (line numbers of the file) and the content digest are those
   of reading the file whole.

A table with a ``footer_pattern`` is read whole: its table ends at a row, which a slice
cannot see.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pyarrow.parquet as pq

from pipelines.extract import StagedRows
from pipelines.extract.file_inbox import files as inbox_files
from pipelines.extract.file_inbox import options as inbox_options
from pipelines.extract.file_inbox import reading as inbox_reading
from quality.gate import READ_PROBLEM_COLUMN

if TYPE_CHECKING:
    from pipelines.extract.file_inbox import InboxOptions, Look

# The survey's regular expression of ``file_inbox.reading._DECIMAL_COMMA``, on bytes: digits
# and commas are the same bytes in every encoding an inbox reads.
_DECIMAL_COMMA = re.compile(rb"(?:^|[^\d,])\d+,\d+(?:$|[^\d,])", re.MULTILINE)
_NOT_ASCII = re.compile(rb"[\x80-\xff]")


@dataclass(frozen=True)
class Survey:
    """The whole file's evidence, gathered in one pass over its bytes."""

    look: Look
    checksum: str
    encoding: str  # the encoding every slice is decoded with
    bom: int  # bytes of a UTF-8 byte order mark at the start, dropped before reading
    decimal_comma_seen: bool
    problem: str | None  # why the file cannot be read as text at all, or None


class _Evidence:
    """Running account of the bytes seen so far, line-aligned piece by piece."""

    def __init__(self, name: str, encodings: tuple[str, ...]) -> None:
        self.name = name
        self.encodings = encodings
        self.declared = encodings[0] if len(encodings) == 1 else None
        self.wants_utf8 = self.declared is None and any(
            inbox_reading._is_utf8(e) for e in encodings
        )
        self.others = {e: True for e in encodings if not inbox_reading._is_utf8(e)}
        self.first_not_utf8: tuple[int, int] | None = None  # (line, byte)
        self.first_utf8_letters: int | None = None  # a line of non-ASCII UTF-8
        self.problem: str | None = None
        self.decimal_comma = False
        self.line_ends = 0
        self.blank = True

    def take(self, piece: bytes) -> None:
        base = self.line_ends
        if self.blank and piece.strip():
            self.blank = False
        if self.declared is not None:
            self._check_declared(piece, base)
        else:
            if self.wants_utf8:
                self._check_utf8(piece, base)
            for encoding, valid in self.others.items():
                if valid:
                    try:
                        piece.decode(encoding)
                    except UnicodeDecodeError:
                        self.others[encoding] = False
        if not self.decimal_comma:
            self.decimal_comma = _DECIMAL_COMMA.search(piece) is not None
        self.line_ends += piece.count(b"\n")

    def _check_declared(self, piece: bytes, base: int) -> None:
        if self.problem is not None:
            return
        assert self.declared is not None
        try:
            piece.decode(self.declared)
        except UnicodeDecodeError as error:
            line = base + piece.count(b"\n", 0, error.start) + 1
            self.problem = (
                f"{self.name}: line {line} is not {self.declared} "
                f"(byte 0x{piece[error.start]:02x}), the encoding the catalogue declares"
            )

    def _check_utf8(self, piece: bytes, base: int) -> None:
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError as error:
            if self.first_not_utf8 is None:
                line = base + piece.count(b"\n", 0, error.start) + 1
                self.first_not_utf8 = (line, piece[error.start])
            if self.first_utf8_letters is None:
                for number, line_bytes in enumerate(piece.split(b"\n"), start=base + 1):
                    if line_bytes.isascii():
                        continue
                    try:
                        line_bytes.decode("utf-8")
                    except UnicodeDecodeError:
                        continue
                    self.first_utf8_letters = number
                    break
            return
        if self.first_utf8_letters is None and (found := _NOT_ASCII.search(piece)):
            self.first_utf8_letters = base + piece.count(b"\n", 0, found.start()) + 1

    def encoding(self) -> tuple[str, str | None]:
        """The file's encoding, and why it cannot be read (as ``file_inbox.reading._decode``)."""
        if self.declared is not None:
            return self.declared, self.problem
        if self.wants_utf8:
            if self.first_not_utf8 is None:
                return "utf-8", None
            if self.first_utf8_letters is not None:
                line, byte = self.first_not_utf8
                return "utf-8", (
                    f"{self.name}: mixed encodings: line {self.first_utf8_letters} is UTF-8 but "
                    f"line {line} is not (byte 0x{byte:02x}); the sending system must write "
                    "one encoding"
                )
        for encoding, valid in self.others.items():
            if valid:
                return encoding, None
        return self.encodings[0], (
            f"{self.name}: not text in any of the encodings {list(self.encodings)}"
        )


def survey(path: Path, options: InboxOptions) -> Survey:
    """One pass over the file's bytes, in blocks of ``stream_slice_bytes``."""
    name = path.name
    checksum = hashlib.sha256()
    evidence = _Evidence(name, options.encodings)
    size, bom, last = 0, 0, b""
    problem: str | None = None
    carry = b""
    with path.open("rb") as handle:
        while True:
            block = handle.read(options.stream_slice_bytes)
            if size == 0 and block:
                if block.startswith(b"PK\x03\x04"):
                    problem = f"{name}: a ZIP archive (an XLSX workbook?), not a CSV file"
                elif b"\x00" in block[:8192]:
                    problem = f"{name}: binary content (NUL bytes), not a CSV text file"
                if block.startswith(codecs.BOM_UTF8) and evidence.wants_utf8:
                    bom = len(codecs.BOM_UTF8)
                    block_for_evidence = block[bom:]
                else:
                    block_for_evidence = block
            else:
                block_for_evidence = block
            checksum.update(block)
            size += len(block)
            if block:
                last = block[-1:]
            data = carry + block_for_evidence
            if not block:
                if data:
                    evidence.take(data)
                break
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) < 4 * options.stream_slice_bytes:
                carry = data  # a line longer than a block: read on
                continue
            cut = cut or len(data)
            evidence.take(data[:cut])
            carry = data[cut:]
    encoding, unreadable = evidence.encoding()
    look = inbox_files.Look(
        size=size,
        blank=evidence.blank,
        ends_with_line_end=last in (b"\n", b"\r"),
        line_ends=evidence.line_ends,
    )
    return Survey(
        look=look,
        checksum=checksum.hexdigest(),
        encoding=encoding,
        bom=bom,
        decimal_comma_seen=evidence.decimal_comma,
        problem=problem or unreadable,
    )


def _cut(data: bytes) -> int:
    """Where to end a slice of ``data``: after its last line end outside quotes (0: none).

    A slice starts outside quotes, so a line end is outside them when an even number of
    quote characters lies before it (a doubled quote inside a field counts two)."""
    end = data.rfind(b"\n")
    while end >= 0:
        if data.count(b'"', 0, end) % 2 == 0:
            return end + 1
        end = data.rfind(b"\n", 0, end)
    return 0


def _slices(path: Path, slice_bytes: int, skip: int) -> Iterator[tuple[int, bytes]]:
    """The file's bytes after ``skip`` in slices ending at line ends, each with the number of
    its first line. A quote left open for four slices is an error, not a reason to read the
    rest of the file into memory."""
    line = 1
    carry = b""
    with path.open("rb") as handle:
        handle.seek(skip)
        while True:
            block = handle.read(slice_bytes)
            data = carry + block
            if not block:
                if data:
                    yield line, data
                return
            cut = _cut(data)
            if cut == 0:
                if len(data) > 4 * slice_bytes:
                    raise inbox_options.UnreadableFileError(
                        f"{path.name}: a quoted field opened at or after line {line} is not "
                        f"closed within {len(data)} bytes"
                    )
                carry = data  # a quoted field or a line longer than a slice: read on
                continue
            yield line, data[:cut]
            line += data.count(b"\n", 0, cut)
            carry = data[cut:]


def _is_blank_record(line: str, delimiter: str) -> bool:
    fields = next(csv.reader([line], delimiter=delimiter), [])
    return not any(value.strip() for value in fields)


def _header_lines(text: str, options: InboxOptions) -> tuple[int, str]:
    """How many lines stand above the data (title, header, skipped rows), and the delimiter:
    as ``file_inbox.reading._read_csv`` and ``_frame`` find them."""
    lines = text.split("\n")
    header_line = options.title_rows
    while header_line < len(lines) and not lines[header_line].strip():
        header_line += 1
    if header_line >= len(lines):
        raise inbox_options.UnreadableFileError("no header line in the first slice")
    delimiter = options.delimiter or inbox_reading._delimiter(
        lines[header_line], inbox_options.DELIMITERS
    )
    header_at = options.title_rows
    while header_at < len(lines) and _is_blank_record(lines[header_at], delimiter):
        header_at += 1
    return header_at + options.header_rows + options.skip_rows_after_header, delimiter


def read_in_slices(
    path: Path, options: InboxOptions, found: Survey, staging: Path
) -> tuple[StagedRows, str]:
    """The file's rows, staged as one Parquet file under ``staging``, and their content digest.

    Raises ``UnreadableFileError`` as reading the file whole would (naming the file's line)."""
    name = path.name
    if found.problem is not None:
        raise inbox_options.UnreadableFileError(found.problem)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    parts: list[Path] = []
    columns: list[str] = []
    prefix = b""
    slice_options = options
    first_data = 0
    for first_line, piece in _slices(path, options.stream_slice_bytes, found.bom):
        if first_line == 1:
            text = piece.decode(found.encoding)
            first_data, delimiter = _header_lines(text, options)
            decimal = options.decimal
            if decimal == "auto":
                comma = delimiter != "," and found.decimal_comma_seen
                decimal = "comma" if comma else "point"
            slice_options = replace(
                options, encodings=(found.encoding,), delimiter=delimiter, decimal=decimal
            )
            ends = [m.end() for m in re.finditer(rb"\n", piece)][:first_data]
            if len(ends) < first_data:
                raise inbox_options.UnreadableFileError(
                    f"{name}: the header does not end within the first "
                    f"{options.stream_slice_bytes} bytes"
                )
            prefix = piece[: ends[-1]] if ends else b""
            data, line_offset = piece, 0
        else:
            data, line_offset = prefix + piece, first_line - (first_data + 1)
        try:
            frame = inbox_reading.read_table_file(
                path, slice_options, data, line_offset=line_offset
            )
        except inbox_options.NoDataRowsError:
            continue  # a slice of blank lines: the file fails only if every slice is blank
        for column in frame.columns:
            if column not in columns:
                columns.append(column)
        part = staging / f"part-{len(parts):05d}.parquet"
        frame.write_parquet(part, compression="zstd")
        parts.append(part)
        del frame
    if not parts:
        raise inbox_options.NoDataRowsError(f"{name}: no data rows under the header")
    if READ_PROBLEM_COLUMN in columns:
        columns.remove(READ_PROBLEM_COLUMN)
        columns.append(READ_PROBLEM_COLUMN)
    staged = staging.with_suffix(".parquet")
    _join(parts, columns, staged)
    shutil.rmtree(staging)
    rows = pq.ParquetFile(staged)
    digest = inbox_files.content_digest_of(
        columns,
        (
            pl.DataFrame(pl.from_arrow(batch))
            for batch in rows.iter_batches(batch_size=inbox_files.CONTENT_DIGEST_STEP)
        ),
    )
    return StagedRows(path=staged, row_count=rows.metadata.num_rows), digest


def _join(parts: list[Path], columns: list[str], target: Path) -> None:
    """The parts' rows in order, in one Parquet file with every column (null where a part had
    none), streamed by DuckDB in bounded memory."""
    selected = ", ".join('"' + column.replace('"', '""') + '"' for column in columns)
    with duckdb.connect() as connection:
        connection.execute("set preserve_insertion_order = true")
        connection.execute("set memory_limit = '1GB'")
        connection.execute(f"set temp_directory = '{_quoted(target.parent / '.duckdb_tmp')}'")
        sources = "[" + ", ".join(f"'{_quoted(part)}'" for part in parts) + "]"
        connection.execute(
            f"copy (select {selected} from read_parquet({sources}, union_by_name = true)) "  # noqa: S608
            f"to '{_quoted(target)}' (format parquet, compression zstd)"
        )


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
