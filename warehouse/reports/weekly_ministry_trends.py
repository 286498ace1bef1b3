"""The trends section of the weekly ministry report: line charts of its key indicators over
the last weeks or months, and the same series as tables with native charts for the workbook."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from warehouse.reports.charts import trend_line
from warehouse.reports.content import Column, ExcelChart, Figure, Table
from warehouse.reports.formatting import Formatter
from warehouse.reports.indicator_tables import indicator_title, period_value
from warehouse.reports.indicators import Indicator, add_months, series

KEY_INDICATORS = 4
TREND_WEEKS = 8
TREND_MONTHS = 6


def axis_label(period_type: str, period_start: dt.date, formatter: Formatter) -> str:
    """A period on a chart's axis: a week's Monday, or a month."""
    if period_type == "week":
        return (
            period_start.strftime("%d.%m")
            if formatter.language != "en"
            else f"{period_start:%d %b}"
        )
    return formatter.month_short(period_start)


def trend_blocks(
    connection: duckdb.DuckDBPyConnection,
    indicators: dict[str, Indicator],
    rows: list[dict[str, Any]],
    period_end: dt.date,
    formatter: Formatter,
) -> tuple[list[Figure], list[Table]]:
    """Small line charts (HTML, PDF) and trend tables with native charts (XLSX) of the key
    indicators: those with traffic lights, plan fulfilment first."""
    label = formatter.label
    candidates = [
        row
        for row in rows
        if indicators[row["indicator_id"]].has_thresholds
        and not indicators[row["indicator_id"]].is_plan_variant
    ]
    candidates.sort(key=lambda row: not indicators[row["indicator_id"]].is_plan_fulfilment)
    figures: list[Figure] = []
    tables: list[Table] = []
    for row in candidates[:KEY_INDICATORS]:
        indicator = indicators[row["indicator_id"]]
        period_type = row["period_type"]
        last = row["period_start"]
        if period_type == "week":
            first = last - dt.timedelta(weeks=TREND_WEEKS - 1)
        else:
            first = add_months(last, -(TREND_MONTHS - 1))
        points = series(
            connection, indicator.indicator_id, row["breakdown"], period_type, first, last
        )
        if len(points) < 2:
            continue
        title = indicator_title(indicator, row["breakdown"], formatter)
        targets = {point["target"] for point in points if point["target"] is not None}
        figures.append(
            Figure(
                title=title,
                png=trend_line(
                    [
                        (axis_label(period_type, point["period_start"], formatter), point["value"])
                        for point in points
                    ],
                    title=title,
                    axis_title=indicator.unit,
                    target=targets.pop() if len(targets) == 1 else None,
                    language=formatter.language,
                ),
                small=True,
            )
        )
        tables.append(
            Table(
                key=title,
                title=f"{label('weekly.trends')}: {title}",
                columns=[
                    Column(label("col.period")),
                    Column(f"{label('col.value')}, {indicator.unit}", "number", indicator.digits),
                    Column(label("col.target"), "number", indicator.digits),
                    Column(label("col.status"), "status"),
                ],
                rows=[
                    [
                        period_value(period_type, point["period_start"], formatter),
                        point["value"],
                        point["target"],
                        point["status"],
                    ]
                    for point in points
                ],
                charts=[
                    ExcelChart(title=title, kind="line", category_column=0, value_columns=(1,))
                ],
                show_in_html=False,
            )
        )
    return figures, tables
