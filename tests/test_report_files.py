"""The files the management reports are rendered into, from the all-sector snapshot: named by
kind, scope, period and language (the weekly report's scopes are the ministries), HTML that needs
nothing from outside and reads on a phone and a desk in a real browser, workbooks with frozen
headers, typed figures, named sheets and native charts; and when nothing is written: no campaign
under way, a week not starting on Monday, a render that fails."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from maglumat.settings import MaglumatPaths
from tests.browser import browser
from tests.report_render_support import (
    REPORT_DAY,
    WEEK,
    Rendered,
    opened_snapshot,
    shared_reports,
)
from warehouse.reports import render
from warehouse.reports.render import render_report, report_scopes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def snapshot(all_sectors: MaglumatPaths) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict]]:
    with opened_snapshot(all_sectors) as opened:
        yield opened


@pytest.fixture(scope="module")
def reports(
    pytestconfig: pytest.Config,
    snapshot: tuple[duckdb.DuckDBPyConnection, dict],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Rendered]:
    return shared_reports(pytestconfig, snapshot, tmp_path_factory)


def test_files_are_named_by_kind_scope_period_and_language(reports: dict[str, Rendered]) -> None:
    daily = reports["daily_tk"].report
    assert daily.html_path.name == "daily_campaign_2023-09-30_tk.html"
    assert daily.pdf_path.name == "daily_campaign_2023-09-30_tk.pdf"
    assert daily.xlsx_path.name == "daily_campaign_2023-09-30_tk.xlsx"
    weekly = reports["weekly_en"].report
    assert weekly.pdf_path.name == "weekly_ministry_energy_2023-W39_en.pdf"
    assert (weekly.period_start, weekly.period_end) == (WEEK, dt.date(2023, 10, 1))
    monthly = reports["monthly_en"].report
    assert monthly.xlsx_path.name == "monthly_government_2023-09_en.xlsx"
    assert monthly.period_end == dt.date(2023, 9, 30)
    for rendered in reports.values():
        assert rendered.report.pdf_path.read_bytes().startswith(b"%PDF")
        # Offline: no external URL in the page, charts embedded.
        html = rendered.report.html_path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", html)
        assert "@import" not in html
        assert "url(http" not in html
        assert "data:image/png;base64," in html
        # No temporary file is left beside the report.
        assert not [p for p in rendered.report.html_path.parent.iterdir() if p.name.startswith(".")]


def test_workbooks_have_frozen_headers_number_formats_and_native_charts(
    reports: dict[str, Rendered],
) -> None:
    for name in ("daily_en", "weekly_en", "monthly_en"):
        path = reports[name].report.xlsx_path
        with zipfile.ZipFile(path) as archive:
            charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
            assert charts, name
            chart_xml = archive.read(charts[0]).decode()
            assert "<c:barChart>" in chart_xml or "<c:lineChart>" in chart_xml
        workbook = load_workbook(path)
        table_sheets = [sheet for sheet in workbook.worksheets[1:] if sheet.title != "Data status"]
        assert table_sheets
        for sheet in table_sheets:
            assert sheet.freeze_panes == "A4", (name, sheet.title)
        assert any(sheet._charts for sheet in table_sheets), name
        numeric = [
            cell
            for sheet in table_sheets
            for row in sheet.iter_rows(min_row=4)
            for cell in row
            if isinstance(cell.value, float)
        ]
        assert numeric
        assert all(cell.number_format.startswith("#,##0") for cell in numeric)


def test_daily_report_is_none_outside_any_campaign(
    snapshot: tuple[duckdb.DuckDBPyConnection, dict], tmp_path: Path
) -> None:
    connection, metadata = snapshot
    # Between the wheat harvest (to early July) and the wheat sowing (from 2 September).
    assert (
        render_report(
            "daily_campaign", dt.date(2023, 8, 15), "tk", None, connection, metadata, tmp_path
        )
        is None
    )
    assert list(tmp_path.iterdir()) == []


def test_scopes_are_the_ministries(snapshot: tuple[duckdb.DuckDBPyConnection, dict]) -> None:
    connection, _ = snapshot
    ministries = {
        row[0]
        for row in connection.execute("select ministry_id from marts.dim_ministries").fetchall()
    }
    assert set(report_scopes("weekly_ministry", connection)) == ministries
    assert report_scopes("daily_campaign", connection) == [None]
    assert report_scopes("monthly_government", connection) == [None]
    with pytest.raises(ValueError, match="Monday"):
        render_report(
            "weekly_ministry", dt.date(2023, 9, 26), "en", "energy", connection, {}, Path("unused")
        )


def test_a_failed_render_leaves_no_report_file(
    snapshot: tuple[duckdb.DuckDBPyConnection, dict],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection, metadata = snapshot

    def broken_pdf(html: str, path: Path) -> None:
        path.write_bytes(b"%PDF-1.7 half")
        raise OSError("disk full")

    monkeypatch.setattr(render, "write_pdf", broken_pdf)
    with pytest.raises(OSError, match="disk full"):
        render_report("daily_campaign", REPORT_DAY, "en", None, connection, metadata, tmp_path)
    assert list(tmp_path.iterdir()) == []


_LAYOUT = """
const boxes = Array.from(document.querySelectorAll('.table-scroll'));
return {
    page: document.documentElement.scrollWidth,
    width: window.innerWidth,
    title_left: document.querySelector('h1').getBoundingClientRect().left,
    title_right: window.innerWidth - document.querySelector('h1').getBoundingClientRect().right,
    widest_box: Math.max(0, ...boxes.map(box => box.getBoundingClientRect().right)),
    footer: document.querySelector('footer.screen').innerText,
};
"""


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("name", ["daily_en", "weekly_en", "monthly_en"])
def test_the_html_report_reads_on_a_phone_and_a_desk_in_a_real_browser(
    reports: dict[str, Rendered], tmp_path: Path, name: str, width: int
) -> None:
    with browser(width) as page:
        page.open(reports[name].report.html_path.as_uri())
        layout = page.run(_LAYOUT)
        shot = page.screenshot(tmp_path / f"{name}_{width}.png")
    assert layout["width"] == width
    # Nothing pushes the page past the window: wide tables scroll inside their own box.
    assert layout["page"] <= width, layout
    assert layout["widest_box"] <= width, layout
    # Text keeps a margin from the window's edges.
    assert layout["title_left"] >= 10, layout
    assert layout["title_right"] >= 10 or width < 500, layout
    assert "(Ashgabat time)" in layout["footer"]
    assert shot.stat().st_size > 10_000


def test_workbook_figures_are_typed_cells_and_sheets_are_named_for_what_they_hold(
    reports: dict[str, Rendered],
) -> None:
    monthly = load_workbook(reports["monthly_en"].report.xlsx_path)
    summary = monthly.worksheets[0]
    figures = {
        row[0].value: row[1] for row in summary.iter_rows(min_row=1) if row[0].value and row[1]
    }
    on_time = next(cell for label, cell in figures.items() if "on time" in str(label))
    assert isinstance(on_time.value, float)
    assert on_time.number_format.endswith('"%"')
    median = next(cell for label, cell in figures.items() if "median" in str(label).lower())
    assert isinstance(median.value, float)
    assert '"days"' in median.number_format
    daily = load_workbook(reports["daily_en"].report.xlsx_path).worksheets[0]
    finish = [
        row[1] for row in daily.iter_rows() if row[0].value == "expected finish at the current pace"
    ]
    assert all(cell.is_date or isinstance(cell.value, str) for cell in finish)
    # Periods are dates written as the report writes them (a month, the partial mark after it).
    periods = [
        cell
        for sheet in monthly.worksheets
        for row in sheet.iter_rows(min_row=4)
        for cell in row
        if isinstance(cell.number_format, str) and "mmm yyyy" in cell.number_format
    ]
    assert periods
    assert all(cell.is_date for cell in periods)
    assert any(cell.number_format.endswith('" *"') for cell in periods)
    weekly = load_workbook(reports["weekly_en"].report.xlsx_path)
    assert not [name for name in weekly.sheetnames if re.fullmatch(r"Trend \d+", name)]
    for sheet in weekly.worksheets[1:]:
        if sheet.title != "Data status":  # the status in words; its table has its own sheet
            assert sheet.freeze_panes is not None, sheet.title
