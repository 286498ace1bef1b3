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

import contextlib
import fcntl
import fnmatch
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from maglumat.catalogue import CatalogueError
from pipelines.extract import Extract, ExtractRequest, StagedRows, inbox_streaming
from pipelines.extract.file_inbox.files import (
    Look,
    _checksum,
    _content_digest,
    _still_being_written,
    content_digest_of,
    inbox_directory,
    landed_checksums,
    move_without_overwrite,
    pending_files,
    processed_directory,
    reject_file,
    rejected_directory,
    rejected_files,
)
from pipelines.extract.file_inbox.options import (
    CHECKSUM_PREFIX,
    CellField,
    InboxOptions,
    NoDataRowsError,
    UnreadableFileError,
    check_options,
)
from pipelines.extract.file_inbox.reading import (
    read_table_file,
)

if TYPE_CHECKING:
    from maglumat.contracts import BatchManifest

log = logging.getLogger(__name__)


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


__all__ = [
    "CellField",
    "InboxOptions",
    "Look",
    "NoDataRowsError",
    "UnreadableFileError",
    "check_options",
    "content_digest_of",
    "extract",
    "inbox_directory",
    "landed_checksums",
    "pending_files",
    "processed_directory",
    "read_table_file",
    "rejected_directory",
    "rejected_files",
]
