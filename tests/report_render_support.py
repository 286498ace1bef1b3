"""Helpers of the tests of the rendered management reports: the periods they render, the
current snapshot opened, each kind rendered once for the whole session (the test modules only
read the files), and a report read back as the text of its HTML and PDF and the cells of its
workbook."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from maglumat.settings import MaglumatPaths
from warehouse.reports.render import RenderedReport, render_report
from warehouse.snapshot import current_snapshot, open_current

REPORT_DAY = dt.date(2023, 9, 30)  # the cotton harvest and the wheat sowing are under way
WEEK = dt.date(2023, 9, 25)  # ISO week 39: 25 September to 1 October 2023
MONTH = dt.date(2023, 9, 1)
HELD = {"batch_id": "20231001T050000000000Z-held01", "system": "chemical_monthly_form",
        "table": "monthly_output", "reason": "schema drift"}  # fmt: skip


@dataclass
class Rendered:
    report: RenderedReport

    @property
    def html(self) -> str:
        return plain(self.report.html_path.read_text(encoding="utf-8"))

    @property
    def pdf(self) -> str:
        reader = PdfReader(str(self.report.pdf_path))
        return plain(" ".join(page.extract_text() for page in reader.pages))

    def cells(self) -> list[Any]:
        workbook = load_workbook(self.report.xlsx_path, read_only=True)
        return [
            cell
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        ]


def plain(text: str) -> str:
    """Whitespace as one plain space (no-break spaces group thousands; PDF text breaks lines)."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


@contextlib.contextmanager
def opened_snapshot(
    paths: MaglumatPaths,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict]]:
    """The current snapshot of ``paths``: its database, read only, and its metadata."""
    found = current_snapshot(paths)
    assert found is not None
    connection = open_current(paths)
    try:
        yield connection, found.metadata
    finally:
        connection.close()


def render_reports(
    connection: duckdb.DuckDBPyConnection, metadata: dict, out: Path
) -> dict[str, Rendered]:
    """Each kind rendered once (the daily report in all three languages); the monthly summary
    with a held batch and a late system added to the snapshot's metadata."""
    troubled = {
        **metadata,
        "held_batches": [HELD],
        "late_systems": ["textile_mill_output"],
        "deliveries": [
            *(d for d in metadata["deliveries"] if d["system"] != "textile_mill_output"),
            {"system": "textile_mill_output", "is_late": True,
             "last_delivery": "2023-09-04 06:00:00+00:00",
             "due_since": "2023-09-08T13:00:00+00:00"},
        ],
    }  # fmt: skip
    rendered: dict[str, Rendered] = {}
    for language in ("tk", "ru", "en"):
        report = render_report(
            "daily_campaign", REPORT_DAY, language, None, connection, metadata, out
        )
        assert report is not None
        rendered[f"daily_{language}"] = Rendered(report)
    for language in ("ru", "en"):
        weekly = render_report(
            "weekly_ministry", WEEK, language, "energy", connection, metadata, out
        )
        assert weekly is not None
        rendered[f"weekly_{language}"] = Rendered(weekly)
    monthly = render_report("monthly_government", MONTH, "en", None, connection, troubled, out)
    assert monthly is not None
    rendered["monthly_en"] = Rendered(monthly)
    return rendered


_RENDERED = pytest.StashKey[dict[str, Rendered]]()


def shared_reports(
    config: pytest.Config,
    snapshot: tuple[duckdb.DuckDBPyConnection, dict],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Rendered]:
    """The reports of ``render_reports``, rendered by the first test module of the session that
    asks for them and shared with the others, which only read the files."""
    if _RENDERED not in config.stash:
        connection, metadata = snapshot
        config.stash[_RENDERED] = render_reports(
            connection, metadata, tmp_path_factory.mktemp("reports")
        )
    return config.stash[_RENDERED]
