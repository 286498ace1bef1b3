"""Late commits for the ``sql`` extractor: how far behind the high-water mark a time cursor
is read again (the ``late_commit_seconds`` option), and which rows of that window the
table's batches have already landed."""

from __future__ import annotations

import datetime as dt

import polars as pl

from maglumat.catalogue import SourceSystem, SourceTable
from pipelines.extract import ExtractRequest, kind_options

# How far behind the high-water mark an incremental table with a time cursor is read again, by
# default: a row committed after a later one (a long transaction, a replica catching up) carries
# an earlier cursor value and would otherwise be skipped for good.
DEFAULT_LATE_COMMIT_SECONDS = 3600
SQL_OPTION_NAMES = frozenset({"late_commit_seconds"})


def late_commit_seconds(system: SourceSystem, table: SourceTable) -> float:
    """How far back past the mark to read again (rows committed late), checked."""
    options = kind_options(system, table, SQL_OPTION_NAMES)
    seconds = float(options.get("late_commit_seconds", DEFAULT_LATE_COMMIT_SECONDS))  # type: ignore[arg-type]
    if seconds < 0:
        raise ValueError("sql option late_commit_seconds must not be negative")
    return seconds


def earlier_cursor(mark: str, seconds: float) -> str | None:
    """``mark`` moved back by ``seconds``, written as the mark is; None if it is not a time."""
    try:
        moment = dt.datetime.fromisoformat(mark)
    except ValueError:
        return None
    separator = mark[10] if len(mark) > 10 and mark[10] in "T " else "T"
    return (moment - dt.timedelta(seconds=seconds)).isoformat(sep=separator)


def as_time(text: str) -> dt.datetime:
    """An ISO time as an instant; a naive one is UTC."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def landed_since(request: ExtractRequest, since: str, columns: list[str]) -> pl.DataFrame | None:
    """The business keys and cursor values landed by the table's batches that reach past
    ``since`` (as text), to tell a row read again from one committed late."""
    from pipelines.landing import list_batches, rejections

    landing, system, table = request.paths.landing, request.system.name, request.table.name
    # A batch the steward rejected for its rows to be read again does not count as landed.
    again = {b for b, r in rejections(landing, system, table).items() if r.extract_again}
    frames = []
    for manifest in list_batches(landing, system, table):
        if manifest.cursor_to is None or manifest.batch_id in again:
            continue
        try:
            reaches = as_time(manifest.cursor_to) > as_time(since)
        except ValueError:
            reaches = True
        if reaches:
            landed = pl.read_parquet(manifest.parquet_path(request.paths.landing), columns=columns)
            frames.append(landed.select(pl.col(columns).cast(pl.String)))
    return pl.concat(frames) if frames else None
