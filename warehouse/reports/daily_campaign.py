"""The daily campaign report: progress against the state order by province, the daily rate
needed to finish on plan, and the lagging districts, for every campaign under way.

It reads only the published snapshot, so it shows what was published (never a half-loaded
warehouse) and says how fresh that is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from warehouse.reports.content import (
    Column,
    ExcelChart,
    Figure,
    Headline,
    ReportContent,
    Section,
    Table,
)
from warehouse.reports.formatting import Formatter


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


# The daily campaign report of render_report (warehouse/reports/render.py): every language,
# HTML, PDF and XLSX, for any past day.

SLOWEST_DISTRICTS = 10


def lagging_threshold_points() -> float:
    """The lag (percentage points behind the country) at which dbt marks a district lagging."""
    import yaml

    from maglumat.settings import DBT_PROJECT_DIR

    with (DBT_PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as handle:
        return float(yaml.safe_load(handle)["vars"]["lagging_threshold_pp"])


def localized_campaign_title(campaign_id: str, formatter: Formatter) -> str:
    kind, _, year = campaign_id.rpartition("_")
    try:
        name = formatter.label(f"campaign.{kind}")
    except KeyError:
        name = kind.replace("_", " ").capitalize()
    return f"{name} {year}"


def _progress_rows(
    connection: duckdb.DuckDBPyConnection, campaign_id: str, report_date: dt.date
) -> list[dict[str, Any]]:
    return (
        connection.execute(
            """
            select * from indicators.ind_campaign_progress
            where campaign_id = ? and report_date = ?
            """,
            [campaign_id, report_date],
        )
        .pl()
        .to_dicts()
    )


def _lagging_ids(
    connection: duckdb.DuckDBPyConnection, campaign_id: str, report_date: dt.date
) -> set[str]:
    rows = connection.execute(
        "select district_code from indicators.ind_lagging_districts"
        " where campaign_id = ? and report_date = ?",
        [campaign_id, report_date],
    ).fetchall()
    return {row[0] for row in rows}


def _progress_statuses(
    connection: duckdb.DuckDBPyConnection, campaign_id: str, report_date: dt.date
) -> dict[str, str]:
    """The status of each region's progress that day, against the planned path (the
    catalogue's agr_campaign_progress_pct), by region id."""
    rows = connection.execute(
        """
        select region_id, status from indicators.fct_indicator_values
        where indicator_id = 'agr_campaign_progress_pct' and period_type = 'day'
            and period_start = ? and breakdown = ? and enterprise_id is null
        """,
        [report_date, campaign_id],
    ).fetchall()
    return {region: status for region, status in rows if status}


def _campaign_section(
    connection: duckdb.DuckDBPyConnection,
    campaign_id: str,
    report_date: dt.date,
    formatter: Formatter,
    threshold: float,
) -> Section | None:
    from warehouse.reports.charts import horizontal_bars

    label = formatter.label
    name = f"region_name_{formatter.language}"
    today = _progress_rows(connection, campaign_id, report_date)
    country = next((row for row in today if row["region_level"] == "country"), None)
    if country is None:
        return None
    previous_day = report_date - dt.timedelta(days=1)
    yesterday = {
        row["region_id"]: row for row in _progress_rows(connection, campaign_id, previous_day)
    }
    lagging_today = _lagging_ids(connection, campaign_id, report_date)
    lagging_yesterday = _lagging_ids(connection, campaign_id, previous_day)
    unit = (
        label(f"unit.{country['unit']}") if country["unit"] in ("tonnes", "ha") else country["unit"]
    )

    def change(row: dict[str, Any]) -> float | None:
        before = yesterday.get(row["region_id"])
        if before is None or row["progress_pct"] is None or before["progress_pct"] is None:
            return None
        return row["progress_pct"] - before["progress_pct"]

    section = Section(title=localized_campaign_title(campaign_id, formatter))
    country_change = change(country)
    section.headlines = [
        formatter.figure(
            country["progress_pct"],
            label(
                "daily.progress",
                done=formatter.number(country["cumulative_amount"]),
                plan=formatter.number(country["plan_amount"]),
                unit=unit,
            ),
            kind="percent",
            digits=1,
        ),
        formatter.figure(
            country["required_daily_rate"],
            label("daily.required_rate", date=formatter.short_date(country["planned_end_date"])),
            unit=unit,
        ),
        formatter.figure(country["pace_per_day"], label("daily.pace"), unit=unit),
        Headline(
            formatter.short_date(country["expected_finish_date"])
            if country["expected_finish_date"]
            else label("daily.not_at_this_pace"),
            label("daily.expected_finish"),
            amount=country["expected_finish_date"],
            kind="date" if country["expected_finish_date"] else "text",
        ),
        Headline(
            formatter.signed(country_change),
            label("daily.change_points"),
            amount=country_change,
            kind="number",
            digits=1,
        ),
        Headline(
            f"{country['received_reports']} / {country['expected_reports']}",
            label("daily.reports_received"),
        ),
    ]

    provinces = sorted(
        (row for row in today if row["region_level"] == "province"),
        key=lambda row: -(row["progress_pct"] or 0),
    )
    statuses = _progress_statuses(connection, campaign_id, report_date)
    section.blocks.append(
        Figure(
            title=label("daily.chart_title"),
            png=horizontal_bars(
                [(row[name], row["progress_pct"] or 0.0) for row in provinces],
                statuses=[statuses.get(row["region_id"]) for row in provinces],
                axis_title="%",
                reference=100.0,
                domain_max=max(110.0, *((row["progress_pct"] or 0) + 10 for row in provinces)),
                language=formatter.language,
            ),
        )
    )
    amount_columns = [
        Column(f"{label('col.plan')}, {unit}", "number"),
        Column(f"{label('col.done')}, {unit}", "number"),
        Column(label("col.progress_pct"), "percent", 1),
        Column(label("col.change_points"), "number", 1),
        Column(f"{label('col.today')}, {unit}", "number"),
        Column(f"{label('col.required_rate')}, {unit}", "number"),
        Column(f"{label('col.pace')}, {unit}", "number"),
        Column(label("col.expected_finish"), "date"),
        Column(label("col.reports"), "text"),
    ]

    def amounts(row: dict[str, Any]) -> list[Any]:
        return [
            row["plan_amount"],
            row["cumulative_amount"],
            row["progress_pct"],
            change(row),
            row["daily_amount"],
            row["required_daily_rate"],
            row["pace_per_day"],
            row["expected_finish_date"],
            f"{row['received_reports']}/{row['expected_reports']}",
        ]

    short = localized_campaign_title(campaign_id, formatter)
    section.blocks.append(
        Table(
            key=f"{short} · {label('sheet.provinces')}",
            title=label("daily.by_province"),
            columns=[Column(label("col.province")), *amount_columns],
            rows=[[row[name], *amounts(row)] for row in provinces],
            charts=[
                ExcelChart(
                    title=label("daily.chart_title"),
                    kind="bar",
                    category_column=0,
                    value_columns=(3,),
                    axis_title="%",
                )
            ],
        )
    )

    province_names = {row["region_id"]: row[name] for row in provinces}
    districts = [row for row in today if row["region_level"] == "district"]
    slowest = sorted(districts, key=lambda row: (row["progress_pct"] or 0, row["region_id"]))
    slowest = slowest[:SLOWEST_DISTRICTS]
    section.blocks.append(
        Table(
            key=f"{short} · {label('sheet.slowest')}",
            title=label("daily.slowest"),
            note=label("daily.slowest_note", threshold=formatter.number(threshold)),
            columns=[
                Column(label("col.district")),
                Column(label("col.province")),
                Column(label("col.progress_pct"), "percent", 1),
                Column(label("col.gap_points"), "number", 1),
                Column(f"{label('col.required_rate')}, {unit}", "number"),
                Column(f"{label('col.pace')}, {unit}", "number"),
                Column(label("col.expected_finish"), "date"),
            ],
            rows=[
                [
                    row[name],
                    province_names.get(row["parent_region_id"], row["parent_region_id"]),
                    row["progress_pct"],
                    None
                    if row["progress_pct"] is None
                    else country["progress_pct"] - row["progress_pct"],
                    row["required_daily_rate"],
                    row["pace_per_day"],
                    row["expected_finish_date"],
                ]
                for row in slowest
            ],
            flagged_rows={i for i, row in enumerate(slowest) if row["region_id"] in lagging_today},
            charts=[
                ExcelChart(
                    title=label("daily.slowest"),
                    kind="bar",
                    category_column=0,
                    value_columns=(2,),
                    axis_title="%",
                )
            ],
        )
    )

    district_names = {row["region_id"]: row[name] for row in districts}
    if not yesterday:
        changes = [label("daily.no_previous_day")]
    else:
        became = sorted(district_names.get(d, d) for d in lagging_today - lagging_yesterday)
        stopped = sorted(district_names.get(d, d) for d in lagging_yesterday - lagging_today)
        changes = []
        if became:
            changes.append(label("daily.became_lagging", districts=", ".join(became)))
        if stopped:
            changes.append(label("daily.stopped_lagging", districts=", ".join(stopped)))
        if not changes:
            changes.append(label("daily.no_lagging_change"))
    section.blocks.append(
        Table(
            key=f"{short} · {label('sheet.changes')}",
            title=label("daily.changes"),
            note=" ".join(changes),
            columns=[
                Column(label("col.province")),
                Column(label("col.progress_pct"), "percent", 1),
                Column(label("col.change_points"), "number", 1),
            ],
            rows=[[row[name], row["progress_pct"], change(row)] for row in provinces]
            if yesterday
            else [],
            empty_text=label("daily.no_previous_day"),
        )
    )

    districts_by_province = sorted(
        districts,
        key=lambda row: (province_names.get(row["parent_region_id"], ""), row[name]),
    )
    section.blocks.append(
        Table(
            key=f"{short} · {label('sheet.districts')}",
            title=label("daily.by_district"),
            columns=[Column(label("col.district")), Column(label("col.province")), *amount_columns],
            rows=[
                [row[name], province_names.get(row["parent_region_id"], ""), *amounts(row)]
                for row in districts_by_province
            ],
            flagged_rows={
                i
                for i, row in enumerate(districts_by_province)
                if row["region_id"] in lagging_today
            },
        )
    )
    return section


def build_content(
    connection: duckdb.DuckDBPyConnection,
    period_start: dt.date,
    period_end: dt.date,
    scope: str | None,
    formatter: Formatter,
) -> ReportContent | None:
    """The daily campaign report for ``period_start`` (one day), or None outside any campaign."""
    report_date = period_start
    campaign_ids = campaigns_on(connection, report_date)
    threshold = lagging_threshold_points()
    sections = [
        section
        for campaign_id in campaign_ids
        if (
            section := _campaign_section(connection, campaign_id, report_date, formatter, threshold)
        )
    ]
    if not sections:
        return None
    return ReportContent(
        kind="daily_campaign",
        language=formatter.language,
        title=formatter.label("title.daily_campaign"),
        subtitle=(
            f"{formatter.label('ministry_of_agriculture')} · "
            f"{formatter.label('period.day', date=formatter.date(report_date))}"
        ),
        period_start=report_date,
        period_end=period_end,
        sections=sections,
    )
