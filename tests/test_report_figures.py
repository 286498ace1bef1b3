"""The figures of the management reports rendered from the all-sector snapshot, against numbers
computed here independently (from the simulator's records or the marts' rows in Python) and
looked for in the HTML text, the PDF text and the workbook's cells: the campaign's progress, the
ministry's week, the e-document discipline of the month, and what needs attention first."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Iterator
from html import unescape
from typing import Any

import duckdb
import pytest
from openpyxl import load_workbook

from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from simulator import agriculture
from tests.report_render_support import (
    MONTH,
    REPORT_DAY,
    WEEK,
    Rendered,
    opened_snapshot,
    shared_reports,
)
from tests.support import expected_campaign_progress
from warehouse.reports import weekly_ministry
from warehouse.reports.formatting import Formatter

pytestmark = pytest.mark.slow


def _has_number(cells: list[Any], expected: float, tolerance: float = 0.051) -> bool:
    return any(
        isinstance(cell, int | float) and abs(cell - expected) <= tolerance for cell in cells
    )


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
