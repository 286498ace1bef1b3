"""The event log extractor (kind ``event_log``): JSON lines files that the source appends to.

The system's connection is the log directory (a plain path or a ``file://`` URL). The source
writes one event per line into files whose names sort in the order they are written (e.g. one
file per day, ``events-2023-09-30.jsonl``) and only ever appends. Tables are read in mode
``append``; their options:

``pattern``
    glob of the log files in the directory (default ``*.jsonl``).
``fields``
    the event fields to land, in order (required); each becomes a text column, nested values
    are kept as JSON text. Fields an event lacks are null; fields not listed are not landed.
``max_lines_per_batch``
    at most this many lines per landed batch (default 200,000), so a long backlog lands as
    several batches and memory stays bounded.

The durable position is the batch's ``cursor_to``: ``<file name>:<byte offset>:<line number>``
of the last landed line, taken from the landing zone's high-water mark. A file that is still
being written is read up to its last complete line; its unfinished last line waits for the next
run. Once a newer file exists the older one is finished, and an unterminated last line in it is
read as it is. A line that is not a JSON object (cut off, not UTF-8, a bare value) is landed
all the same, with its raw text in ``raw_line`` and the reason in ``parse_error``, so the
quality gate quarantines it with its file and line number; nothing is dropped. Every row
carries ``log_file`` and ``log_line``. Blank lines carry nothing and are skipped.

The new bytes are parsed in bulk (Arrow's JSON reader, every field read as text). It accepts
a block of lines only when each line is one JSON object whose listed fields are strings or
null; a block it refuses is halved until the lines it cannot take are found, and those are
parsed one by one as above, so the landed rows are the same either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import numpy as np
import polars as pl

from pipelines.extract import Extract, ExtractRequest, kind_options
from pipelines.extract.dbapi import SourceUnreachableError

if TYPE_CHECKING:
    from maglumat.catalogue import SourceSystem, SourceTable

DEFAULT_PATTERN = "*.jsonl"
DEFAULT_MAX_LINES = 200_000
# Columns the extractor adds to the event's own fields.
LOG_FILE, LOG_LINE, PARSE_ERROR, RAW_LINE = "log_file", "log_line", "parse_error", "raw_line"
LOG_COLUMNS = (LOG_FILE, LOG_LINE, PARSE_ERROR, RAW_LINE)
# Blocks of at most this many lines that the bulk parser refuses are parsed line by line.
LINE_BY_LINE_BLOCK = 64
# What ``bytes.strip`` removes: a line of only these is blank.
_WHITESPACE = np.frombuffer(b" \t\n\r\x0b\x0c", dtype=np.uint8)


class EventLogError(RuntimeError):
    """The log no longer matches what was landed from it (a file shrank or was rewritten)."""


@dataclass(frozen=True)
class LogPosition:
    """Just after the last landed line: file name, byte offset in it, lines read in it."""

    file: str
    offset: int
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.offset}:{self.line}"

    @classmethod
    def parse(cls, text: str) -> LogPosition:
        try:
            file, offset, line = text.rsplit(":", 2)
            return cls(file, int(offset), int(line))
        except ValueError as error:
            raise EventLogError(
                f"{text!r} is not an event log position (<file>:<byte offset>:<line>)"
            ) from error


def log_directory(connection: str) -> Path:
    """The directory a connection string names: ``file:///abs/path`` or a plain path."""
    if connection.startswith("file:"):
        parts = urlsplit(connection)
        return Path(unquote(parts.netloc + parts.path))
    return Path(connection)


def _text(value: Any) -> str | None:
    """A JSON value as landed text; the gate's schema contract types it."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def parse_line(
    raw: bytes, fields: Sequence[str], file: str, line: int
) -> dict[str, str | int | None]:
    """One log line as a row: the event's fields, or its raw text and why it is not an event."""
    row: dict[str, str | int | None] = dict.fromkeys(fields)
    row.update({LOG_FILE: file, LOG_LINE: line, PARSE_ERROR: None, RAW_LINE: None})
    error: str | None = None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")  # a byte order mark starts no event
    except UnicodeDecodeError as problem:
        text = raw.decode("utf-8", errors="replace")
        error = f"not UTF-8 at byte {problem.start}"
    else:
        try:
            event = json.loads(text)
        except json.JSONDecodeError as problem:
            error = f"not JSON ({problem.msg.removesuffix(' at')}, column {problem.colno})"
        else:
            if isinstance(event, dict):
                row.update({name: _text(event.get(name)) for name in fields})
            else:
                error = f"not a JSON object but {type(event).__name__}"
    if error is not None:
        row[PARSE_ERROR] = f"{file} line {line}: {error}"
        row[RAW_LINE] = text.rstrip("\r\n")
    return row


def _schema(fields: Sequence[str]) -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {name: pl.String() for name in fields}
    schema.update(
        {
            LOG_FILE: pl.String(),
            LOG_LINE: pl.Int64(),
            PARSE_ERROR: pl.String(),
            RAW_LINE: pl.String(),
        }
    )
    return schema


def _files_label(files: list[str]) -> str:
    return files[0] if len(files) == 1 else f"{files[0]} .. {files[-1]} ({len(files)} files)"


class _FileLines:
    """The lines of a file's new bytes: where each ends, its number, whether it is blank."""

    def __init__(self, data: bytes, complete: int, offset: int, line: int) -> None:
        content = np.frombuffer(data, dtype=np.uint8, count=complete)
        ends = np.flatnonzero(content == ord("\n")) + 1
        if complete and (not len(ends) or ends[-1] < complete):
            ends = np.append(ends, complete)  # the last line of a finished file, unterminated
        self.starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
        self.ends = ends.astype(np.int64)
        printing = np.concatenate(([0], np.cumsum(~np.isin(content, _WHITESPACE))))
        self.rows = np.flatnonzero(printing[self.ends] - printing[self.starts] > 0)  # not blank
        self.offset = offset
        self.first_line = line + 1

    def __len__(self) -> int:
        return len(self.ends)

    def position(self, file: str, index: int) -> LogPosition:
        """Just after line ``index`` (0-based among the new lines)."""
        return LogPosition(file, self.offset + int(self.ends[index]), self.first_line + index)


def _bulk_rows(block: bytes, fields: Sequence[str], expected: int) -> pl.DataFrame | None:
    """The listed fields of a block of JSON lines, or None if a line needs the exact reader."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    try:
        block.decode("utf-8")  # a line that is not UTF-8 is landed with its reason
        table = pa_json.read_json(
            pa.py_buffer(block),
            parse_options=pa_json.ParseOptions(
                # Strict: a number, boolean, list or object in a listed field, a key given twice
                # or a value that is not an object is refused, not converted.
                explicit_schema=pa.schema([(name, pa.string()) for name in fields]),
                unexpected_field_behavior="ignore",
                newlines_in_values=False,
            ),
        )
    except (UnicodeDecodeError, pa.ArrowInvalid):
        return None
    if table.num_rows != expected:  # two objects on one line: not one event per line
        return None
    frame = pl.from_arrow(table.select(list(fields)))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _parse_rows(data: bytes, lines: _FileLines, fields: Sequence[str], file: str) -> pl.DataFrame:
    """One row per non-blank line, in order, with the log columns."""
    schema = _schema(fields)
    parts: list[pl.DataFrame] = []

    def parse(first: int, last: int) -> None:  # rows[first:last]
        chosen = lines.rows[first:last]
        if last - first > LINE_BY_LINE_BLOCK:
            block = data[lines.starts[chosen[0]] : lines.ends[chosen[-1]]]
            frame = _bulk_rows(block, fields, last - first)
            if frame is not None:
                numbers = pl.Series(LOG_LINE, chosen + lines.first_line, dtype=pl.Int64)
                parts.append(
                    frame.with_columns(
                        pl.lit(file, dtype=pl.String).alias(LOG_FILE),
                        numbers,
                        pl.lit(None, dtype=pl.String).alias(PARSE_ERROR),
                        pl.lit(None, dtype=pl.String).alias(RAW_LINE),
                    ).select(list(schema))
                )
                return
            middle = (first + last) // 2
            parse(first, middle)
            parse(middle, last)
            return
        rows = [
            parse_line(
                data[lines.starts[index] : lines.ends[index]],
                fields,
                file,
                lines.first_line + int(index),
            )
            for index in chosen
        ]
        parts.append(pl.DataFrame(rows, schema=schema, orient="row"))

    parse(0, len(lines.rows))
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts, how="vertical")


class _Batch:
    """Rows collected for one landed batch, and the position just after its last line."""

    def __init__(self, fields: Sequence[str], start: LogPosition | None) -> None:
        self.fields = fields
        self.start = start
        self.end = start
        self.parts: list[pl.DataFrame] = []
        self.height = 0
        self.files: list[str] = []

    def add(self, rows: pl.DataFrame, file: str, end: LogPosition) -> None:
        if rows.height:
            self.parts.append(rows)
            self.height += rows.height
            if not self.files or self.files[-1] != file:
                self.files.append(file)
        self.end = end

    def extract(self) -> Extract:
        frame = pl.concat(self.parts, how="vertical") if self.parts else None
        return Extract(
            frame=frame if frame is not None else pl.DataFrame(schema=_schema(self.fields)),
            cursor_from=str(self.start) if self.start else None,
            cursor_to=str(self.end) if self.end else None,
            source_file=_files_label(self.files),
        )


def read_log(
    directory: Path,
    fields: Sequence[str],
    position: LogPosition | None,
    pattern: str = DEFAULT_PATTERN,
    max_lines_per_batch: int = DEFAULT_MAX_LINES,
) -> Iterator[Extract]:
    """Every complete line after ``position``, as batches of at most ``max_lines_per_batch``."""
    if not directory.is_dir():
        raise SourceUnreachableError(f"event log directory {directory} does not exist")
    overlap = set(fields) & set(LOG_COLUMNS)
    if not fields or overlap:
        raise ValueError(f"event_log needs `fields`, none of them named {sorted(LOG_COLUMNS)}")
    files = sorted(path for path in directory.glob(pattern) if path.is_file())
    batch = _Batch(fields, position)
    for index, path in enumerate(files):
        name = path.name
        if position is not None and name < position.file:
            continue
        offset, line = (0, 0)
        if position is not None and name == position.file:
            offset, line = position.offset, position.line
        finished = index < len(files) - 1  # a newer file exists: the source writes no more here
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            if size < offset:
                raise EventLogError(
                    f"{path} has {size} bytes but {offset} were already landed from it: "
                    "the log was truncated or replaced"
                )
            if offset > 0 and size > offset:
                handle.seek(offset - 1)
                if handle.read(1) != b"\n":
                    raise EventLogError(
                        f"{path}: byte {offset} no longer follows a line end: the file was "
                        "rewritten since it was landed"
                    )
            handle.seek(offset)
            data = handle.read()
        complete = data.rfind(b"\n") + 1
        if finished and complete < len(data):
            complete = len(data)  # the writer is gone: its unterminated last line is final
        lines = _FileLines(data, complete, offset, line)
        rows = _parse_rows(data, lines, fields, name)
        taken = 0
        while taken < rows.height:
            size_left = max_lines_per_batch - batch.height
            chunk = rows.slice(taken, size_left)
            taken += chunk.height
            last_line = int(lines.rows[taken - 1])
            batch.add(chunk, name, lines.position(name, last_line))
            if batch.height >= max_lines_per_batch:
                yield batch.extract()
                batch = _Batch(fields, batch.end)
        if len(lines):
            batch.add(rows.clear(), name, lines.position(name, len(lines) - 1))
    if batch.height:
        yield batch.extract()


EVENT_LOG_OPTION_NAMES = frozenset({"pattern", "fields", "max_lines_per_batch"})


@dataclass(frozen=True)
class LogSettings:
    fields: tuple[str, ...]
    pattern: str
    max_lines_per_batch: int


def log_settings(system: SourceSystem, table: SourceTable) -> LogSettings:
    """A table's options over its system's, checked: when the catalogue loads and at a run."""
    if table.mode != "append":
        raise ValueError(f"an event log is read in mode 'append', not {table.mode!r}")
    options = kind_options(system, table, EVENT_LOG_OPTION_NAMES)
    fields = options.get("fields")
    if (
        not isinstance(fields, list)
        or not fields
        or not all(isinstance(name, str) and name for name in fields)
    ):
        raise ValueError("event_log option `fields` (the event fields to land) is required")
    overlap = sorted(set(fields) & set(LOG_COLUMNS))
    if overlap:
        raise ValueError(f"event_log `fields` may not be named {overlap}: the log's own columns")
    settings = LogSettings(
        tuple(fields),
        str(options.get("pattern", DEFAULT_PATTERN)),
        int(options.get("max_lines_per_batch", DEFAULT_MAX_LINES)),  # type: ignore[call-overload]
    )
    if settings.max_lines_per_batch < 1:
        raise ValueError("event_log option max_lines_per_batch must be at least 1")
    return settings


def check_options(system: SourceSystem, table: SourceTable) -> None:
    log_settings(system, table)


def extract(request: ExtractRequest) -> Iterator[Extract]:
    settings = log_settings(request.system, request.table)
    position = None
    if request.high_water_mark is not None:
        position = LogPosition.parse(request.high_water_mark)
    yield from read_log(
        log_directory(request.connection),
        list(settings.fields),
        position,
        pattern=settings.pattern,
        max_lines_per_batch=settings.max_lines_per_batch,
    )
