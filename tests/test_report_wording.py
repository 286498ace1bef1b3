"""The words of the management reports rendered from the all-sector snapshot: each report in
the reader's language (titles, dates, numbers, sheet names) with every name in that language's
script, names instead of codes, and the data status of each sector system told in words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import duckdb
import pytest
from openpyxl import load_workbook

from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from simulator import agriculture
from tests.report_render_support import HELD, Rendered, opened_snapshot, shared_reports
from tests.report_render_support import plain as _plain
from tests.support import expected_campaign_progress

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
