"""Generic extractors, one module per kind of sector system.

A system of kind ``k`` in the catalogue is read by the module ``pipelines.extract.k``, which
has a function ``extract(request: ExtractRequest) -> Iterable[Extract]``. Each ``Extract`` is
landed as one immutable batch; its ``on_landed`` callback runs only after the batch is
committed (a file inbox moves the file out of the inbox then, so a crash never loses a file).
Adding a kind is adding a module; nothing else lists the kinds.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from maglumat.catalogue import SourceSystem, SourceTable
    from maglumat.contracts import BatchManifest
    from maglumat.settings import MaglumatPaths


@dataclass(frozen=True)
class ExtractRequest:
    """What an extractor is asked for: one table of one system, past a high-water mark."""

    system: SourceSystem
    table: SourceTable
    connection: str  # from the environment variable the catalogue names (or the demo default)
    high_water_mark: str | None  # cursor_to of the latest landed batch of this table
    paths: MaglumatPaths


@dataclass(frozen=True)
class StagedRows:
    """Rows already written to a Parquet file beside the landing zone (a file too large to
    hold in memory, read in slices); landing moves the file into place."""

    path: Path
    row_count: int


@dataclass(frozen=True)
class Extract:
    """Rows read from a source, to be landed as one batch: in memory, or ``staged``."""

    frame: pl.DataFrame | None
    cursor_from: str | None = None
    cursor_to: str | None = None
    source_file: str | None = None  # the file the rows came from, for inbox kinds
    on_landed: Callable[[BatchManifest], None] | None = field(default=None, compare=False)
    staged: StagedRows | None = None

    @property
    def row_count(self) -> int:
        if self.staged is not None:
            return self.staged.row_count
        assert self.frame is not None
        return self.frame.height


Extractor = Callable[[ExtractRequest], Iterable[Extract]]
OptionsCheck = Callable[["SourceSystem", "SourceTable"], None]


def _module(kind: str) -> ModuleType:
    if not kind.isidentifier() or kind.startswith("_"):
        raise ValueError(f"{kind!r} is not a valid extractor kind")
    try:
        module = importlib.import_module(f"pipelines.extract.{kind}")
    except ModuleNotFoundError as error:
        raise ValueError(f"no extractor for kind {kind!r} (pipelines/extract/{kind}.py)") from error
    for function in ("extract", "check_options"):
        if not callable(getattr(module, function, None)):
            raise ValueError(f"pipelines/extract/{kind}.py has no {function} function")
    return module


def kind_options(
    system: SourceSystem, table: SourceTable, known: frozenset[str]
) -> dict[str, object]:
    """A table's options over its system's, refusing a name the kind does not read."""
    options = {**system.options, **table.options}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(
            f"unknown options {unknown} (a misspelling?); the {system.kind} kind reads"
            f" {sorted(known)}"
        )
    return options


def extractor_for(kind: str) -> Extractor:
    """The ``extract`` function of ``pipelines.extract.<kind>``."""
    return _module(kind).extract


def options_check_for(kind: str) -> OptionsCheck:
    """The ``check_options(system, table)`` of ``pipelines.extract.<kind>``: it raises on an
    option the extractor does not read or a value it cannot use, when the catalogue loads."""
    return _module(kind).check_options
