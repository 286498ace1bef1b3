"""The three management reports rendered from the all-sector snapshot (HTML, PDF, XLSX), with
numbers computed here independently (from the simulator's records or the marts' rows in Python)
and looked for in the HTML text, the PDF text and the workbook's cells."""

from __future__ import annotations

import datetime as dt
import re
import statistics
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from simulator import agriculture
from tests.browser import browser
from tests.support import expected_campaign_progress
from warehouse.reports import render, weekly_ministry
from warehouse.reports.formatting import Formatter
from warehouse.reports.render import RenderedReport, render_report, report_scopes
from warehouse.snapshot import current_snapshot, open_current

pytestmark = pytest.mark.slow

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
        return _plain(self.report.html_path.read_text(encoding="utf-8"))

    @property
    def pdf(self) -> str:
        reader = PdfReader(str(self.report.pdf_path))
        return _plain(" ".join(page.extract_text() for page in reader.pages))

    def cells(self) -> list[Any]:
        workbook = load_workbook(self.report.xlsx_path, read_only=True)
        return [
            cell
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        ]


def _plain(text: str) -> str:
    """Whitespace as one plain space (no-break spaces group thousands; PDF text breaks lines)."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def _has_number(cells: list[Any], expected: float, tolerance: float = 0.051) -> bool:
    return any(
        isinstance(cell, int | float) and abs(cell - expected) <= tolerance for cell in cells
    )


@pytest.fixture(scope="module")
def snapshot(all_sectors: MaglumatPaths) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict]]:
    found = current_snapshot(all_sectors)
    assert found is not None
    connection = open_current(all_sectors)
    try:
        yield connection, found.metadata
    finally:
        connection.close()


@pytest.fixture(scope="module")
def reports(
    snapshot: tuple[duckdb.DuckDBPyConnection, dict], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Rendered]:
    """Each kind rendered once (the daily report in all three languages); the monthly summary
    with a held batch and a late system added to the snapshot's metadata."""
    connection, metadata = snapshot
    out = tmp_path_factory.mktemp("reports")
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


def test_daily_report_shows_the_progress_computed_from_the_simulator(
    reports: dict[str, Rendered],
) -> None:
    data_through, progress = expected_campaign_progress(
        agriculture.generate(), DEFAULT_AS_OF, "cotton", "harvest", 2023
    )
    assert data_through == REPORT_DAY
    country = progress["TM"]
    slowest_district = min(
        (region for region in progress if len(region) == 7), key=lambda r: progress[r].pct
    )
    english = reports["daily_en"]
    html, pdf, cells = english.html, english.pdf, english.cells()
    assert f"{country.pct:.1f} %" in html
    assert f"{country.pct:.1f} %" in pdf
    assert f"{country.cumulative:,.0f} of {country.plan:,.0f} t" in html
    # The workbook: the headline on its summary sheet (a number, typed), the provinces'
    # numbers in their sheet.
    summary = load_workbook(english.report.xlsx_path).worksheets[0]
    headline = [row[1].value for row in summary.iter_rows() if row[1].value is not None]
    assert any(isinstance(value, float) and abs(value - country.pct) < 0.05 for value in headline)
    assert _has_number(cells, progress["TM-M"].plan, tolerance=0.5)
    for province in ("TM-A", "TM-B", "TM-D", "TM-L", "TM-M"):
        assert f"{progress[province].pct:.1f}" in pdf
        assert _has_number(cells, progress[province].pct)
    district_name = agriculture_district_name(slowest_district)
    slowest_section = html.split("The ten slowest districts")[1].split("What changed")[0]
    assert district_name in slowest_section.split("</tr>")[1]  # the first row of the table
    assert "The ten slowest districts" in pdf
    assert "What changed since the previous day" in pdf


def agriculture_district_name(district_code: str) -> str:
    import csv

    from maglumat.settings import DBT_PROJECT_DIR

    with (DBT_PROJECT_DIR / "seeds" / "reference" / "ref_districts.csv").open() as handle:
        return next(
            row["name_en"]
            for row in csv.DictReader(handle)
            if row["district_code"] == district_code
        )


def test_daily_report_in_three_languages(reports: dict[str, Rendered]) -> None:
    _, progress = expected_campaign_progress(
        agriculture.generate(), DEFAULT_AS_OF, "cotton", "harvest", 2023
    )
    plan = progress["TM"].plan
    pct = f"{progress['TM'].pct:.1f}"
    expectations = {
        "tk": ("Oba hojalyk möwsüminiň gündelik hasabaty", "Pagta ýygymy 2023",
               "2023-nji ýylyň 30-njy sentýabry", "Welaýatlar boýunça",
               f"{plan:,.0f}".replace(",", " "), pct.replace(".", ",")),
        "ru": ("Ежедневный отчёт о ходе сельскохозяйственной кампании", "Сбор хлопка 2023",
               "30 сентября 2023 г.", "По велаятам", f"{plan:,.0f}".replace(",", " "),
               pct.replace(".", ",")),
        "en": ("Daily campaign report", "Cotton harvest 2023", "30 September 2023",
               "By province", f"{plan:,.0f}", pct),
    }  # fmt: skip
    for language, texts in expectations.items():
        rendered = reports[f"daily_{language}"]
        html, pdf = rendered.html, rendered.pdf
        for text in texts:
            assert text in html, (language, text)
            assert text in pdf, (language, text)
        assert rendered.report.title == texts[0]
    # The other languages' titles are not there: labels switch, not pile up.
    assert "Daily campaign report" not in reports["daily_ru"].html
    assert "By province" not in reports["daily_tk"].html
    # Sheet names follow the language too.
    sheets = load_workbook(reports["daily_ru"].report.xlsx_path, read_only=True).sheetnames
    assert sheets[0] == "Сводка"
    assert any("Сбор хлопка 2023" in name for name in sheets)


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


def test_weekly_ministry_report_shows_the_ministry_week(
    reports: dict[str, Rendered], snapshot: tuple[duckdb.DuckDBPyConnection, dict]
) -> None:
    connection, _ = snapshot
    week_end = WEEK + dt.timedelta(days=6)
    # Daily power generation of the week, summed here from the mart's rows (MWh to GWh).
    rows = connection.execute(
        "select report_date, electricity_mwh from marts.fct_fuel_energy_daily_production"
    ).fetchall()
    power_gwh = sum(float(mwh or 0) for day, mwh in rows if WEEK <= day <= week_end) / 1000
    assert power_gwh > 0
    weekly = reports["weekly_en"]
    html, pdf, cells = weekly.html, weekly.pdf, weekly.cells()
    assert "Weekly ministry report" in pdf
    assert "Ministry of Energy" in pdf
    assert "week 39 (25 Sep 2023 – 1 Oct 2023)" in html
    assert f"{power_gwh:,.1f}" in html
    assert f"{power_gwh:,.1f}" in pdf
    assert _has_number(cells, power_gwh)
    # Traffic lights from the catalogue's thresholds, and the trend charts.
    assert re.search(r"class=\"dot (red|amber|green)\"", weekly.report.html_path.read_text())
    assert "Trends of the key indicators" in pdf
    assert "Enterprises" in pdf
    assert "Districts" in pdf


def test_weekly_report_takes_nothing_after_its_week(
    snapshot: tuple[duckdb.DuckDBPyConnection, dict],
) -> None:
    """A week that ended before September did: its monthly indicators stop at August, and its
    weekly ones are that week's own."""
    connection, _ = snapshot
    earlier = dt.date(2023, 9, 18)
    content = weekly_ministry.build_content(
        connection, earlier, earlier + dt.timedelta(days=6), "energy", Formatter("en")
    )
    assert content is not None
    table = content.sections[0].tables()[0]
    periods = {str(row[2]) for row in table.rows}
    assert "Sep 2023" not in periods
    assert "Aug 2023" in periods
    assert "week 38 2023" in periods
    rows = connection.execute(
        "select report_date, electricity_mwh from marts.fct_fuel_energy_daily_production"
    ).fetchall()
    week_gwh = (
        sum(
            float(mwh or 0) for day, mwh in rows if earlier <= day <= earlier + dt.timedelta(days=6)
        )
        / 1000
    )
    weekly_values = [row[3] for row in table.rows if str(row[2]) == "week 38 2023"]
    assert any(abs(value - week_gwh) < 1e-6 for value in weekly_values)


def test_monthly_summary_shows_edocument_discipline(
    reports: dict[str, Rendered], snapshot: tuple[duckdb.DuckDBPyConnection, dict]
) -> None:
    connection, _ = snapshot
    month_end = dt.date(2023, 9, 30)
    documents = connection.execute(
        """
        select receiver_ministry_code, registered_date, executed_date, deadline_date,
            is_executed_on_time, cycle_time_days, status_as_of_at
        from marts.fct_edocument_documents
        """
    ).fetchall()
    executed = [d for d in documents if d[2] is not None and MONTH <= d[2] <= month_end]
    with_deadline = [d for d in executed if d[3] is not None]  # reports and minutes have none
    on_time_pct = 100.0 * sum(1 for d in with_deadline if d[4]) / len(with_deadline)
    status_date = min(month_end, max(d[6] for d in documents).astimezone(ASHGABAT).date())
    overdue = [
        d for d in documents
        if d[1] <= status_date and d[3] is not None and d[3] < status_date
        and (d[2] is None or d[2] > status_date)
    ]  # fmt: skip
    by_ministry = {}
    for code in {d[0] for d in executed}:
        cycle = sorted(float(d[5]) for d in executed if d[0] == code)
        by_ministry[code] = statistics.quantiles(cycle, n=10, method="inclusive")[-1]
    monthly = reports["monthly_en"]
    html, pdf, cells = monthly.html, monthly.pdf, monthly.cells()
    assert "Monthly government summary" in pdf
    assert "September 2023" in pdf
    assert f"{on_time_pct:.1f} %" in html
    assert f"{on_time_pct:.1f} %" in pdf
    assert re.search(
        rf">{len(overdue):,}</div>\s*<div class=\"label\">overdue documents not executed", html
    )
    assert f"{len(overdue):,}" in pdf

    def on_time_share(code: str) -> float:
        mine = [d for d in with_deadline if d[0] == code]
        return sum(1 for d in mine if d[4]) / len(mine) if mine else 2.0  # none: never worst

    worst = min(by_ministry, key=lambda code: (on_time_share(code), code))
    assert _has_number(cells, by_ministry[worst], tolerance=0.001)
    assert f"{by_ministry[worst]:.1f}" in pdf
    assert "Plan fulfilment by sector" in pdf
    assert "Headline indicators of the sectors" in pdf
    # Every sector with a traffic-light indicator appears.
    for sector in ("Fuel and energy", "Textile industry", "Transport", "Agriculture"):
        assert sector in html


ASHGABAT = dt.timezone(dt.timedelta(hours=5))


def test_data_status_speaks_of_each_system_by_name_in_words(
    reports: dict[str, Rendered],
) -> None:
    monthly = reports["monthly_en"]
    for text in (unescape(monthly.html), _plain(monthly.pdf)):
        assert "Data status" in text
        assert "Held by the quality gate and not included:" in text
        assert "Chemical industry monthly form (1-Ö) (batches held: 1)" in text
        assert "Late sector systems (their latest data is not included): Textile mills' output" in (
            text
        )
        assert "late since 8 Sep 2023 18:00 (Ashgabat time)" in text
        assert "Figures as published" in text
        # machine state stays out: no system ids, batch ids, checksums or cursors
        for machine in ("textile_mill_output", "chemical_monthly_form", HELD["batch_id"], "sha256"):
            assert machine not in text
    # the table of systems: a monthly system's data is named by its month, a daily one by its day
    assert re.search(
        r"Chemical industry monthly form \(1-Ö\)</td><td[^>]*>[A-Z][a-z]+ 20\d\d<", monthly.html
    )
    assert re.search(
        r"Fuel and energy daily production dispatch</td><td[^>]*>\d+ [A-Z][a-z]{2} 20", monthly.html
    )
    cells = monthly.cells()
    assert "Textile mills' output" in cells
    assert HELD["batch_id"] not in " ".join(str(cell) for cell in cells)
    daily = reports["daily_tk"]
    assert "Hil barlagynda saklanan maglumat bukjasy ýok." in daily.html
    assert "Ýangyç-energetika toplumynyň gündelik önümçilik hasabaty" in daily.html
    assert "Held by the quality gate" not in reports["daily_en"].html


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


def _attention(html: str) -> list[str]:
    """The findings of the report's first section, which must be "Needs attention"."""
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings[0] == "Needs attention", headings[:3]
    block = html.split("<h2>Needs attention</h2>", 1)[1].split("<h2>", 1)[0]
    return re.findall(r"<p>(.*?)</p>", block)


def test_each_report_opens_with_what_needs_attention(
    reports: dict[str, Rendered], snapshot: tuple[duckdb.DuckDBPyConnection, dict]
) -> None:
    connection, _ = snapshot
    findings = _attention(reports["monthly_en"].html)
    assert 2 <= len(findings) <= 6
    assert "Textile mills' output: its data is late" in unescape(" ".join(findings))
    assert "Chemical industry monthly form (1-Ö): 1 batch(es) held" in " ".join(findings)
    # Independently: every indicator and breakdown whose latest month (August, for a system
    # that reports weeks after the month, or September) is red at country level.
    (red,) = connection.execute(
        """
        with latest as (
            select indicator_id, breakdown, max(period_start) as month
            from indicators.fct_indicator_values
            where period_type = 'month' and region_level = 'country' and enterprise_id is null
                and status is not null and period_start <= date '2023-09-30'
            group by all
        )
        select count(*) from indicators.fct_indicator_values as facts
        inner join latest
            on facts.indicator_id = latest.indicator_id
            and facts.breakdown is not distinct from latest.breakdown
            and facts.period_start = latest.month
        where facts.period_type = 'month' and facts.region_level = 'country'
            and facts.enterprise_id is null and facts.status is not null
            and latest.month >= date '2023-08-01' and facts.status = 'red'
        """
    ).fetchone() or (0,)
    named = [f for f in findings if ", red in " in f or ", still red in " in f]
    more = re.search(r"(\d+) more red indicators", " ".join(findings))
    assert len(named) + (int(more.group(1)) if more else 0) == red
    assert 1 <= len(named) <= 3
    # The detail follows, each table under its own title.
    assert "<h3>Indicators by sector and their status</h3>" in reports["monthly_en"].html
    # The daily report's first glance is about the campaigns.
    daily = _attention(reports["daily_en"].html)
    assert daily
    assert all("Textile" not in finding for finding in daily)


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


def test_every_code_a_report_prints_has_its_name(reports: dict[str, Rendered]) -> None:
    html = unescape(reports["monthly_en"].html)
    # the e-document section names the receiving bodies (marts.dim_breakdowns)
    assert "Ministry of Textile Industry" in html
    assert "State Committee of Statistics" in html
    assert not re.search(r">(MTX|SCS|MAG|CBT)<", html)
    # units, services and products of the breakdowns are words, not codes
    assert "(thousand pieces)" in html
    for code in ("thousand_pieces", "fixed_internet", "medicine_facility_reports:", "thousand_m2"):
        assert code not in html


@pytest.mark.parametrize(
    ("language", "heading", "foreign_letters"),
    [
        ("en", "Enterprises", "[şçžňýäöüŞÇŽŇÝÄÖÜ]"),
        ("ru", "Предприятия", "[A-Za-zşçžňýäöüŞÇŽŇÝÄÖÜ]"),
    ],
)
def test_a_report_writes_every_name_in_its_language_s_script(
    reports: dict[str, Rendered], language: str, heading: str, foreign_letters: str
) -> None:
    """Districts and enterprises alike: English text carries no Turkmen letters, Russian text
    no Latin ones."""
    html = unescape(reports[f"weekly_{language}"].html)
    enterprises = html.split(f"<h3>{heading}</h3>", 1)[1].split("</table>", 1)[0]
    names = re.findall(r"<tr[^>]*><td class=\"text\">([^<]+)</td>", enterprises)
    assert len(names) >= 3
    assert not [name for name in names if re.search(foreign_letters, name)]
