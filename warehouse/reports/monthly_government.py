"""The monthly summary for the government: every sector's headline indicators with traffic
lights, plan fulfilment by sector, and the execution discipline of the e-document workflow by
receiving ministry.

Each indicator shows the report's month; a monthly system that has not reported that month yet
shows its latest earlier month (the period column says so). E-document figures count documents
executed in the month and documents overdue at the month's end (or at the log's latest line
when the month is not over yet), from marts.fct_edocument_documents with the catalogue's
definitions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from warehouse.reports.charts import horizontal_bars
from warehouse.reports.content import (
    Column,
    ExcelChart,
    Figure,
    ReportContent,
    Section,
    Table,
)
from warehouse.reports.formatting import Formatter
from warehouse.reports.indicator_tables import (
    indicator_title,
    indicators_table,
    partial_note,
    period_value,
    sector_label,
    status_headlines,
)
from warehouse.reports.indicators import (
    Indicator,
    breakdown_label,
    catalogue,
    latest_month_values,
    totals_or_breakdowns,
)

# Delivery completeness and timeliness per system: the data status section speaks of them.
SECTORS_IN_DATA_STATUS = {"data_quality"}
EDOC_ON_TIME = "edoc_executed_on_time_pct"
EDOC_MEDIAN_BY_MINISTRY = "edoc_cycle_time_median_by_ministry_days"


def headline_rows(
    connection: duckdb.DuckDBPyConnection,
    indicators: dict[str, Indicator],
    month: dt.date,
) -> list[dict[str, Any]]:
    """Indicators with traffic lights (not the plan-version variants), by sector."""
    chosen = [
        key
        for key, indicator in indicators.items()
        if indicator.has_thresholds
        and not indicator.is_plan_variant
        and "month" in indicator.periodicity
        and indicator.sector not in SECTORS_IN_DATA_STATUS
    ]
    rows = totals_or_breakdowns(latest_month_values(connection, chosen, month), limit=3)
    order = list(indicators)
    return sorted(rows, key=lambda row: order.index(row["indicator_id"]))


def edocument_by_ministry(
    connection: duckdb.DuckDBPyConnection, month: dt.date, month_end: dt.date
) -> list[dict[str, Any]]:
    """Per receiving ministry: executed in the month, the share on time, cycle time median and
    90th percentile (percentile_cont, as the catalogue's percentile indicators), and documents
    overdue at the month's end or at the log's latest day, whichever is earlier."""
    return (
        connection.execute(
            """
            with documents as (
                select * from marts.fct_edocument_documents
            ),

            reference as (
                select least(?, max(cast(timezone('Asia/Ashgabat', status_as_of_at) as date)))
                    as status_date
                from documents
            ),

            executed as (
                select
                    receiver_ministry_code,
                    count(*) as executed_documents,
                    -- On time among the documents that have a deadline (as the indicator).
                    100.0 * sum(case when is_executed_on_time then 1 else 0 end)
                    / nullif(count(deadline_date), 0) as on_time_pct,
                    cast(percentile_cont(0.5) within group (order by cycle_time_days) as double)
                        as cycle_time_median_days,
                    cast(percentile_cont(0.9) within group (order by cycle_time_days) as double)
                        as cycle_time_p90_days
                from documents
                where is_executed and executed_date between ? and ?
                group by receiver_ministry_code
            ),

            overdue as (
                select documents.receiver_ministry_code, count(*) as overdue_documents
                from documents
                cross join reference
                where documents.registered_date <= reference.status_date
                    and documents.deadline_date < reference.status_date
                    and (
                        documents.executed_date is null
                        or documents.executed_date > reference.status_date
                    )
                group by documents.receiver_ministry_code
            )

            select
                coalesce(executed.receiver_ministry_code, overdue.receiver_ministry_code)
                    as receiver_ministry_code,
                coalesce(executed.executed_documents, 0) as executed_documents,
                executed.on_time_pct,
                coalesce(overdue.overdue_documents, 0) as overdue_documents,
                executed.cycle_time_median_days,
                executed.cycle_time_p90_days
            from executed
            full outer join overdue
                on executed.receiver_ministry_code = overdue.receiver_ministry_code
            order by executed.on_time_pct nulls last, receiver_ministry_code
            """,
            [month_end, month, month_end],
        )
        .pl()
        .to_dicts()
    )


def edocument_totals(
    connection: duckdb.DuckDBPyConnection, month: dt.date, month_end: dt.date
) -> dict[str, Any]:
    row = connection.execute(
        """
        select
            cast(percentile_cont(0.5) within group (order by cycle_time_days) as double),
            cast(percentile_cont(0.9) within group (order by cycle_time_days) as double)
        from marts.fct_edocument_documents
        where is_executed and executed_date between ? and ?
        """,
        [month, month_end],
    ).fetchone()
    return {"median": row[0] if row else None, "p90": row[1] if row else None}


def _month_value(
    connection: duckdb.DuckDBPyConnection, indicator_id: str, month: dt.date
) -> dict[str, Any] | None:
    rows = connection.execute(
        """
        select value, status from indicators.fct_indicator_values
        where indicator_id = ? and period_type = 'month' and period_start = ?
            and region_level = 'country' and enterprise_id is null and breakdown is null
        """,
        [indicator_id, month],
    ).fetchall()
    return {"value": rows[0][0], "status": rows[0][1]} if rows else None


def _status_by_thresholds(
    connection: duckdb.DuckDBPyConnection, indicator_id: str, value: float | None
) -> str | None:
    """The status ``value`` has by the indicator's thresholds in the catalogue (on the value
    itself; a ministry's share is judged as the country's is)."""
    if value is None:
        return None
    row = connection.execute(
        """
        select
            case
                when green_threshold is null then null
                when direction = 'lower_is_better' then
                    case when ? <= green_threshold then 'green'
                        when ? <= amber_threshold then 'amber' else 'red' end
                else
                    case when ? >= green_threshold then 'green'
                        when ? >= amber_threshold then 'amber' else 'red' end
            end
        from indicators.dim_indicators
        where indicator_id = ? and coalesce(threshold_basis, 'value') = 'value'
        """,
        [value, value, value, value, indicator_id],
    ).fetchone()
    return row[0] if row else None


def _median_by_ministry(connection: duckdb.DuckDBPyConnection, month: dt.date) -> dict[str, float]:
    rows = connection.execute(
        """
        select breakdown, value from indicators.fct_indicator_values
        where indicator_id = ? and period_type = 'month' and period_start = ?
            and region_level = 'country' and enterprise_id is null
        """,
        [EDOC_MEDIAN_BY_MINISTRY, month],
    ).fetchall()
    return {row[0]: row[1] for row in rows}


def edocument_section(
    connection: duckdb.DuckDBPyConnection,
    month: dt.date,
    month_end: dt.date,
    formatter: Formatter,
) -> Section:
    label = formatter.label
    section = Section(title=label("monthly.edocument"))
    by_ministry = edocument_by_ministry(connection, month, month_end)
    on_time = _month_value(connection, EDOC_ON_TIME, month)
    totals = edocument_totals(connection, month, month_end)
    days = label("unit.days")
    section.headlines = [
        formatter.figure(
            on_time["value"] if on_time else None,
            label("monthly.on_time"),
            kind="percent",
            digits=1,
            status=on_time["status"] if on_time else None,
        ),
        formatter.figure(
            sum(row["overdue_documents"] for row in by_ministry), label("monthly.overdue")
        ),
        formatter.figure(totals["median"], label("monthly.median"), digits=1, unit=days),
        formatter.figure(totals["p90"], label("monthly.p90"), digits=1, unit=days),
    ]
    # The median by ministry is the catalogue's indicator; the 90th percentile, which the
    # catalogue does not break down by ministry, is computed the same way from the mart.
    medians = _median_by_ministry(connection, month)
    rows = [
        [
            breakdown_label(row["receiver_ministry_code"], formatter),
            row["executed_documents"],
            row["on_time_pct"],
            row["overdue_documents"],
            medians.get(row["receiver_ministry_code"], row["cycle_time_median_days"]),
            row["cycle_time_p90_days"],
        ]
        for row in by_ministry
    ]
    charted = [row for row in rows if row[2] is not None]
    if charted:
        section.blocks.append(
            Figure(
                title=label("monthly.on_time_by_ministry"),
                png=horizontal_bars(
                    [(row[0], row[2]) for row in charted],
                    statuses=[
                        _status_by_thresholds(connection, EDOC_ON_TIME, row[2]) for row in charted
                    ],
                    axis_title="%",
                    reference=100.0,
                    domain_max=110.0,
                    width=420,
                    language=formatter.language,
                ),
            )
        )
    section.blocks.append(
        Table(
            key=label("monthly.edocument_sheet"),
            title=label("monthly.edocument_table"),
            note=label("monthly.edocument_note"),
            columns=[
                Column(label("col.ministry")),
                Column(label("col.executed"), "number"),
                Column(label("col.on_time_pct"), "percent", 1),
                Column(label("col.overdue"), "number"),
                Column(f"{label('col.median')}, {days}", "number", 1),
                Column(f"{label('col.p90')}, {days}", "number", 1),
            ],
            rows=rows,
            charts=[
                ExcelChart(
                    title=label("monthly.on_time_by_ministry"),
                    kind="bar",
                    category_column=0,
                    value_columns=(2,),
                    axis_title="%",
                )
            ],
            empty_text=label("monthly.no_documents"),
        )
    )
    return section


def plan_section(
    rows: list[dict[str, Any]],
    indicators: dict[str, Indicator],
    formatter: Formatter,
) -> Section:
    label = formatter.label
    section = Section(title=label("monthly.plan_fulfilment"))
    plan_rows = [row for row in rows if indicators[row["indicator_id"]].is_plan_fulfilment]
    table_rows = [
        [
            sector_label(indicators[row["indicator_id"]].sector, formatter),
            indicator_title(indicators[row["indicator_id"]], row["breakdown"], formatter),
            period_value(
                row["period_type"],
                row["period_start"],
                formatter,
                partial=bool(row.get("is_partial_period")),
            ),
            row["value"],
            row["status"],
        ]
        for row in plan_rows
    ]
    if table_rows:
        section.blocks.append(
            Figure(
                title=label("monthly.plan_chart"),
                png=horizontal_bars(
                    [(row[1], row[3]) for row in table_rows if row[3] is not None],
                    statuses=[row[4] for row in table_rows if row[3] is not None],
                    axis_title="%",
                    reference=100.0,
                    domain_max=max(
                        110.0, *(row[3] + 10 for row in table_rows if row[3] is not None)
                    ),
                    width=300,
                    language=formatter.language,
                ),
            )
        )
    section.blocks.append(
        Table(
            key=label("monthly.plan_sheet"),
            title=label("monthly.plan_table"),
            columns=[
                Column(label("col.sector")),
                Column(label("col.indicator")),
                Column(label("col.period"), nowrap=True),
                Column(label("col.fulfilment_pct"), "percent", 1),
                Column(label("col.status"), "status"),
            ],
            rows=table_rows,
            flagged_rows={i for i, row in enumerate(plan_rows) if row["status"] == "red"},
            charts=[
                ExcelChart(
                    title=label("monthly.plan_chart"),
                    kind="bar",
                    category_column=1,
                    value_columns=(3,),
                    axis_title="%",
                )
            ],
            empty_text=label("weekly.no_indicators"),
            note=partial_note(plan_rows, formatter),
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
    """The government's monthly summary for the month starting ``period_start``."""
    label = formatter.label
    indicators = catalogue(connection, formatter)
    rows = headline_rows(connection, indicators, period_start)
    if not rows:
        return None
    headlines = Section(title=label("monthly.headlines"))
    headlines.headlines = status_headlines(rows, formatter)
    headlines.blocks.append(
        indicators_table(
            rows,
            indicators,
            formatter,
            key=label("monthly.headlines_sheet"),
            title=label("monthly.headlines_table"),
            with_sector=True,
        )
    )
    return ReportContent(
        kind="monthly_government",
        language=formatter.language,
        title=label("title.monthly_government"),
        subtitle=f"{label('cabinet_of_ministers')} · {formatter.month(period_start)}",
        period_start=period_start,
        period_end=period_end,
        sections=[
            headlines,
            plan_section(rows, indicators, formatter),
            edocument_section(connection, period_start, period_end, formatter),
        ],
    )
