"""The daily campaign report: progress against the state order by province, the daily rate
needed to finish on plan, and the lagging districts, for every campaign under way.

It reads only the published snapshot, so it shows what was published (never a half-loaded
warehouse) and says how fresh that is.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from jinja2 import Environment, FileSystemLoader, select_autoescape

from warehouse.reports.charts import progress_by_province_chart

TEMPLATES = Path(__file__).parent / "templates"
CAMPAIGN_NAMES = {
    "wheat_harvest": "Wheat harvest",
    "cotton_harvest": "Cotton harvest",
    "wheat_sowing": "Wheat sowing",
    "rice_harvest": "Rice harvest",
}


@dataclass(frozen=True)
class RenderedReport:
    report_date: dt.date
    html_path: Path
    pdf_path: Path
    chart_paths: list[Path]
    campaigns: list[str]


def campaign_title(campaign_id: str) -> str:
    kind, _, year = campaign_id.rpartition("_")
    return f"{CAMPAIGN_NAMES.get(kind, kind.replace('_', ' ').capitalize())} {year}"


def latest_report_date(connection: duckdb.DuckDBPyConnection) -> dt.date | None:
    row = connection.execute(
        "select max(report_date) from indicators.ind_campaign_progress"
    ).fetchone()
    return row[0] if row else None


def campaigns_on(connection: duckdb.DuckDBPyConnection, report_date: dt.date) -> list[str]:
    """Campaigns under way on ``report_date``: within their calendar, or still reporting."""
    rows = connection.execute(
        """
        select distinct campaigns.campaign_id
        from marts.dim_campaigns as campaigns
        where ? between campaigns.start_date and campaigns.planned_end_date
        union
        select distinct progress.campaign_id
        from indicators.ind_campaign_progress as progress
        where progress.report_date = ? and progress.region_level = 'country'
            and progress.daily_amount > 0
        order by 1
        """,
        [report_date, report_date],
    ).fetchall()
    return [row[0] for row in rows]


def _frame(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any]) -> pl.DataFrame:
    return connection.execute(sql, parameters).pl()


def _section(
    connection: duckdb.DuckDBPyConnection, campaign_id: str, report_date: dt.date, top: int
) -> dict[str, Any]:
    levels = _frame(
        connection,
        """
        select * from indicators.ind_campaign_progress
        where campaign_id = ? and report_date = ? and region_level in ('country', 'province')
        order by region_level, progress_pct desc
        """,
        [campaign_id, report_date],
    )
    country = levels.filter(pl.col("region_level") == "country").to_dicts()
    provinces = levels.filter(pl.col("region_level") == "province")
    lagging = _frame(
        connection,
        """
        select * from indicators.ind_lagging_districts
        where campaign_id = ? and report_date = ?
        order by lag_rank
        limit ?
        """,
        [campaign_id, report_date, top],
    )
    return {
        "campaign_id": campaign_id,
        "title": campaign_title(campaign_id),
        "country": country[0] if country else None,
        "provinces": provinces.to_dicts(),
        "lagging": lagging.to_dicts(),
        "provinces_frame": provinces,
    }


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}".replace(",", "\u202f")


def render_daily_campaign_report(
    connection: duckdb.DuckDBPyConnection,
    snapshot_metadata: dict[str, Any],
    output_root: Path,
    report_date: dt.date | None = None,
    top_lagging: int = 10,
) -> RenderedReport | None:
    """Render the report for ``report_date`` (default: the latest reported day).

    Returns None when no campaign is under way that day: the report is only for campaign days.
    """
    report_date = report_date or latest_report_date(connection)
    if report_date is None:
        return None
    campaign_ids = campaigns_on(connection, report_date)
    if not campaign_ids:
        return None
    folder = output_root / "daily_campaign" / report_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    sections, chart_paths = [], []
    for campaign_id in campaign_ids:
        section = _section(connection, campaign_id, report_date, top_lagging)
        if section["country"] is None:
            continue
        chart = progress_by_province_chart(
            section.pop("provinces_frame"), f"{section['title']}: progress by province"
        )
        chart_path = folder / f"{campaign_id}_provinces.png"
        chart_path.write_bytes(chart)
        chart_paths.append(chart_path)
        section["chart_data_uri"] = "data:image/png;base64," + base64.b64encode(chart).decode()
        sections.append(section)
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    environment.filters["number"] = _number
    html = environment.get_template("daily_campaign.html").render(
        report_date=report_date,
        sections=sections,
        snapshot=snapshot_metadata,
        generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    stem = f"daily_campaign_{report_date.isoformat()}"
    html_path = folder / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = folder / f"{stem}.pdf"
    from weasyprint import HTML  # heavy import, only where a PDF is made

    HTML(string=html, base_url=str(folder)).write_pdf(pdf_path)
    return RenderedReport(report_date, html_path, pdf_path, chart_paths, campaign_ids)
