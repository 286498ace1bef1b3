"""The landing zone: every extract written once, as an immutable Parquet batch.

Layout (see docs/architecture.md)::

    <MAGLUMAT_HOME>/landing/<system>/<table>/<extracted date>/<batch_id>.parquet
    <MAGLUMAT_HOME>/landing/<system>/<table>/<extracted date>/<batch_id>.json   # manifest

The manifest is written last and is the commit marker: a Parquet file without one is the debris
of an interrupted extract and is ignored (its rows are extracted again). Files are made read-only
and never overwritten; the checksum in the manifest is verified on every read.

The data steward's rejection of a batch is recorded beside it, write-once, as
``<batch_id>.rejected`` (JSON: when, why, and whether its rows are to be extracted again). The
high-water mark replays landings and rejections in time order: a rejection whose rows are to be
extracted again moves the mark back to where the batch began, so the next extraction reads them
again once the source serves them; a rejection that skips them, knowingly, leaves the mark.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from maglumat import clock
from maglumat.contracts import BatchManifest


class LandingError(RuntimeError):
    """A batch in the landing zone is missing or does not match its manifest."""


def new_batch_id(extracted_at: dt.datetime) -> str:
    """Sortable by extraction time, unique across processes."""
    return f"{extracted_at.strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(3)}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_once(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    with temporary.open("wb") as handle:
        handle.write(data)
    _link_once(path, temporary)


def _link_once(path: Path, written: Path) -> None:
    """Put the finished file ``written`` in place as ``path``, read-only, never overwriting."""
    with written.open("rb+") as handle:
        os.fsync(handle.fileno())
    written.chmod(0o444)
    try:
        os.link(written, path)  # fails if the name exists: nothing is ever overwritten
    finally:
        written.unlink()


def land_batch(
    landing_root: Path,
    *,
    system: str,
    table: str,
    mode: str,
    frame: pl.DataFrame | None = None,
    staged: Path | None = None,
    source: str,
    cursor_column: str | None = None,
    cursor_from: str | None = None,
    cursor_to: str | None = None,
    source_file: str | None = None,
    extracted_at: dt.datetime | None = None,
) -> BatchManifest:
    """Land ``frame``, or the Parquet file ``staged`` (written in slices by the extractor, on
    the landing zone's file system; it is moved, not copied), as a new immutable batch and
    return its manifest."""
    if (frame is None) == (staged is None):
        raise ValueError("land_batch takes either a frame or a staged Parquet file")
    extracted_at = extracted_at or clock.now()
    batch_id = new_batch_id(extracted_at)
    folder = landing_root / system / table / extracted_at.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    parquet_path = folder / f"{batch_id}.parquet"
    if frame is not None:
        written = folder / f".{batch_id}.parquet.writing"
        frame.write_parquet(written, compression="zstd", statistics=True)
        row_count, schema = frame.height, frame.schema
    else:
        assert staged is not None
        written = folder / f".{batch_id}.parquet.writing"
        staged.rename(written)
        row_count, schema = pq.read_metadata(written).num_rows, pl.read_parquet_schema(written)
    _link_once(parquet_path, written)
    manifest = BatchManifest(
        batch_id=batch_id,
        system=system,
        table=table,
        mode=mode,
        extracted_at=extracted_at.isoformat(),
        row_count=row_count,
        sha256=_sha256(parquet_path),
        columns={name: str(dtype) for name, dtype in schema.items()},
        cursor_column=cursor_column,
        cursor_from=cursor_from,
        cursor_to=cursor_to,
        source=source,
        file=str(parquet_path.relative_to(landing_root)),
        source_file=source_file,
    )
    _write_once(folder / f"{batch_id}.json", manifest.to_json().encode("utf-8"))
    return manifest


def list_batches(
    landing_root: Path, system: str | None = None, table: str | None = None
) -> list[BatchManifest]:
    """Committed batches (those with a manifest), oldest first."""
    pattern = f"{system or '*'}/{table or '*'}/*/*.json"
    manifests = [
        BatchManifest(**json.loads(path.read_text(encoding="utf-8")))
        for path in landing_root.glob(pattern)
    ]
    return sorted(manifests, key=lambda manifest: manifest.batch_id)


def find_batch(landing_root: Path, batch_id: str) -> BatchManifest:
    for manifest in list_batches(landing_root):
        if manifest.batch_id == batch_id:
            return manifest
    raise LandingError(f"no batch {batch_id!r} in the landing zone {landing_root}")


@dataclass(frozen=True)
class Rejection:
    """The data steward's decision to keep a held batch out of the warehouse for good."""

    batch_id: str
    rejected_at: str
    reason: str
    extract_again: bool  # the rows are read again from the source; False: skipped, knowingly

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=True)


def rejection_path(landing_root: Path, manifest: BatchManifest) -> Path:
    return manifest.parquet_path(landing_root).with_suffix(".rejected")


def record_rejection(
    landing_root: Path,
    manifest: BatchManifest,
    reason: str,
    *,
    extract_again: bool = True,
    rejected_at: dt.datetime | None = None,
) -> Rejection:
    """Write the steward's rejection beside the batch (once: a second call returns the first)."""
    path = rejection_path(landing_root, manifest)
    if path.exists():
        return Rejection(**json.loads(path.read_text(encoding="utf-8")))
    rejection = Rejection(
        batch_id=manifest.batch_id,
        rejected_at=(rejected_at or clock.now()).isoformat(),
        reason=reason,
        extract_again=extract_again,
    )
    _write_once(path, rejection.to_json().encode("utf-8"))
    return rejection


def rejections(
    landing_root: Path, system: str | None = None, table: str | None = None
) -> dict[str, Rejection]:
    """The steward's rejections in the landing zone, by batch id."""
    pattern = f"{system or '*'}/{table or '*'}/*/*.rejected"
    found = (
        Rejection(**json.loads(path.read_text(encoding="utf-8")))
        for path in landing_root.glob(pattern)
    )
    return {rejection.batch_id: rejection for rejection in found}


def high_water_mark(landing_root: Path, system: str, table: str) -> str | None:
    """The cursor value up to which the source has been landed (durable: read from manifests).

    Landings and the steward's rejections are replayed in time order: a landing moves the mark
    to its ``cursor_to``; a rejection whose rows are to be extracted again moves it back to the
    rejected batch's ``cursor_from`` (rows landed after it are then read again too, which raw
    keeps as versions and dbt resolves by key).
    """
    batches = list_batches(landing_root, system, table)
    decided = rejections(landing_root, system, table)
    by_id = {manifest.batch_id: manifest for manifest in batches}
    events: list[tuple[dt.datetime, int, BatchManifest, bool]] = [
        (dt.datetime.fromisoformat(m.extracted_at), 0, m, False) for m in batches
    ]
    events += [
        (dt.datetime.fromisoformat(r.rejected_at), 1, by_id[r.batch_id], True)
        for r in decided.values()
        if r.extract_again and r.batch_id in by_id
    ]
    mark: str | None = None
    for _, _, manifest, rejected in sorted(events, key=lambda event: event[:2]):
        if rejected:
            mark = manifest.cursor_from
        elif manifest.cursor_to:
            mark = manifest.cursor_to
    return mark


def read_batch(landing_root: Path, manifest: BatchManifest) -> pl.DataFrame:
    """The batch's rows, after checking the file is the one that was landed."""
    path = manifest.parquet_path(landing_root)
    _verify(manifest, path)
    return pl.read_parquet(path)


def read_batch_slices(
    landing_root: Path, manifest: BatchManifest, rows: int
) -> Iterator[tuple[int, pl.DataFrame]]:
    """The batch's rows ``rows`` at a time, each slice with the number of rows before it, after
    checking the file is the one that was landed: a batch too big to hold at once."""
    path = manifest.parquet_path(landing_root)
    _verify(manifest, path)
    offset = 0
    for record_batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
        frame = pl.from_arrow(record_batch)
        assert isinstance(frame, pl.DataFrame)
        yield offset, frame
        offset += frame.height


def _verify(manifest: BatchManifest, path: Path) -> None:
    if not path.exists():
        raise LandingError(f"batch {manifest.batch_id}: file {path} is missing")
    if _sha256(path) != manifest.sha256:
        raise LandingError(f"batch {manifest.batch_id}: {path} does not match its checksum")
