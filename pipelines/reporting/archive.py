"""The report archive: one folder per report, period, scope and language, filled atomically.

Archive layout::

    <MAGLUMAT_HOME>/reports/archive/<kind>/<period>/<language>/            # daily, monthly
    <MAGLUMAT_HOME>/reports/archive/<kind>/<period>/<ministry>/<language>/ # weekly
    <MAGLUMAT_HOME>/reports/archive/<kind>/<period>/.../report.json        # written last
    <MAGLUMAT_HOME>/reports/archive/delivery_log.jsonl                     # what was e-mailed

A report is rendered into a hidden folder beside its place, checked (HTML, PDF and XLSX all
present), described by ``report.json`` (files and checksums, snapshot, run) and only then
renamed into place. A folder counts as archived only when its manifest's checksums match, so a
half-made report is never taken for a complete one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from maglumat import clock
from pipelines.reporting.periods import ReportPeriod

MANIFEST = "report.json"


class ReportArchiveError(RuntimeError):
    """A report folder is missing files or its files do not match their manifest."""


class ReportRenderError(RuntimeError):
    """Rendering one report (kind, period, scope, language) failed."""


class Rendered(Protocol):
    """What the renderer returns (``warehouse.reports.render.RenderedReport``)."""

    title: str
    html_path: Path
    pdf_path: Path
    xlsx_path: Path


def archive_root(reports_dir: Path) -> Path:
    return reports_dir / "archive"


def archive_folder(
    reports_dir: Path, period: ReportPeriod, scope: str | None, language: str
) -> Path:
    folder = archive_root(reports_dir) / period.kind / period.label
    return (folder / scope if scope else folder) / language


@dataclass(frozen=True)
class ArchivedReport:
    """A complete report in the archive, as its manifest describes it."""

    folder: Path
    kind: str
    period: str
    period_start: str
    period_end: str
    scope: str | None
    language: str
    title: str
    snapshot_id: str
    run_id: str
    rendered_at: str
    files: dict[str, str]  # name -> sha256
    html: str
    pdf: str
    xlsx: str

    @property
    def name(self) -> str:
        """Report, period, ministry and language: how failures and logs name it."""
        scope = f" for {self.scope}" if self.scope else ""
        return f"{self.kind} {self.period}{scope} in {self.language}"

    @property
    def attachments(self) -> list[Path]:
        return [self.folder / self.pdf, self.folder / self.xlsx]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_archived(folder: Path) -> ArchivedReport | None:
    """The report archived in ``folder``; None when there is none (no manifest).

    Raises ReportArchiveError when a file the manifest lists is missing or has changed.
    """
    manifest = folder / MANIFEST
    if not manifest.exists():
        return None
    report = ArchivedReport(folder=folder, **json.loads(manifest.read_text(encoding="utf-8")))
    for name, checksum in report.files.items():
        path = folder / name
        if not path.is_file() or _sha256(path) != checksum:
            raise ReportArchiveError(f"{report.name}: {path} is missing or changed")
    return report


def _remove_empty_folders(folder: Path, stop_above: str) -> None:
    """Remove ``folder`` and its parents while empty, up to the one named ``stop_above``."""
    for candidate in [folder, *folder.parents]:
        if candidate.exists() and any(candidate.iterdir()):
            return
        if candidate.exists():
            candidate.rmdir()
        if candidate.name == stop_above:
            return


def render_into_archive(
    folder: Path,
    period: ReportPeriod,
    scope: str | None,
    language: str,
    render: Callable[[Path], Rendered | None],
    snapshot_id: str,
    run_id: str,
) -> ArchivedReport | None:
    """Render a report with ``render(out_dir)`` and move it into ``folder`` once complete.

    Returns None when the renderer has nothing to report for the period (no folder is made).
    """
    staging = folder.with_name(f".{folder.name}.{run_id}.rendering")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    name = f"{period.kind} {period.label}{f' for {scope}' if scope else ''} in {language}"
    try:
        try:
            rendered = render(staging)
        except Exception as error:
            raise ReportRenderError(f"rendering {name} failed: {error}") from error
        if rendered is None:
            shutil.rmtree(staging, ignore_errors=True)
            _remove_empty_folders(staging.parent, stop_above=period.kind)
            return None
        made = {"html": rendered.html_path, "pdf": rendered.pdf_path, "xlsx": rendered.xlsx_path}
        for kind_of_file, path in made.items():
            if not path.is_file() or path.stat().st_size == 0:
                raise ReportRenderError(f"rendering {name} left no {kind_of_file} file ({path})")
        files = {
            str(path.relative_to(staging)): _sha256(path)
            for path in sorted(staging.iterdir())
            if path.is_file() and not path.name.startswith(".")
        }
        manifest = {
            "kind": period.kind,
            "period": period.label,
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "scope": scope,
            "language": language,
            "title": rendered.title,
            "snapshot_id": snapshot_id,
            "run_id": run_id,
            "rendered_at": clock.now().isoformat(),
            "files": files,
            **{key: str(path.relative_to(staging)) for key, path in made.items()},
        }
        (staging / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        # Swap the complete folder into place; an earlier rendering is moved aside first.
        replaced = folder.with_name(f".{folder.name}.{run_id}.replaced")
        if folder.exists():
            shutil.rmtree(replaced, ignore_errors=True)
            folder.rename(replaced)
        staging.rename(folder)
        shutil.rmtree(replaced, ignore_errors=True)
        return load_archived(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
