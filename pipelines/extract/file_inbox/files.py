"""Where an inbox's files are, which are ready, and where they go once read."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import polars as pl

from maglumat import clock
from pipelines.landing import list_batches, rejections

if TYPE_CHECKING:
    from maglumat.catalogue import SourceSystem
    from maglumat.settings import MaglumatPaths
from pipelines.extract.file_inbox.options import (
    CHECKSUM_PREFIX,
    CONTENT_PREFIX,
    REASON_SUFFIX,
    InboxOptions,
)

log = logging.getLogger(__name__)


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
