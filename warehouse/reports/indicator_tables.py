"""Indicator tables shared by the weekly and monthly reports and the attention section: period
cells (with the partial-period mark), indicator titles, sector labels, the table of indicators
with traffic lights and the count of each status above it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from warehouse.reports.content import Column, Headline, Period, Table
from warehouse.reports.formatting import Formatter, turkmen_ordinal
from warehouse.reports.indicators import Indicator, breakdown_label

PARTIAL_MARK = " *"


def period_value(
    period_type: str, period_start: dt.date, formatter: Formatter, *, partial: bool = False
) -> Period:
    """``period_cell`` for a table: the same text, and a date for the workbook."""
    text = period_cell(period_type, period_start, formatter, partial=partial)
    return Period(period_type, period_start, text, partial)


def period_cell(
    period_type: str, period_start: dt.date, formatter: Formatter, *, partial: bool = False
) -> str:
    """A period in a table cell or on a chart axis: a week's days, or a month; a period not
    complete at the data's cut-off is marked (see ``partial_note``)."""
    mark = PARTIAL_MARK if partial else ""
    if period_type == "week":
        year, week, _ = period_start.isocalendar()
        number = turkmen_ordinal(week) if formatter.language == "tk" else str(week)
        return f"{formatter.label('period.week_short', week=number)} {year}{mark}"
    if period_type == "month":
        return formatter.month_short(period_start) + mark
    return formatter.short_date(period_start) + mark


def partial_note(rows: list[dict[str, Any]], formatter: Formatter) -> str:
    """The footnote of a table with a partial period in it, else nothing."""
    if any(row.get("is_partial_period") for row in rows):
        return formatter.label("note.partial_period", mark=PARTIAL_MARK.strip())
    return ""


def indicator_title(indicator: Indicator, breakdown: str | None, formatter: Formatter) -> str:
    detail = breakdown_label(breakdown, formatter)
    return f"{indicator.name} ({detail})" if detail else indicator.name


def indicators_table(
    rows: list[dict[str, Any]],
    indicators: dict[str, Indicator],
    formatter: Formatter,
    *,
    key: str,
    title: str,
    with_sector: bool = False,
) -> Table:
    label = formatter.label
    columns = [Column(label("col.indicator"))]
    if with_sector:
        columns.insert(0, Column(label("col.sector")))
    columns += [
        Column(label("col.unit")),
        Column(label("col.period"), nowrap=True),
        Column(label("col.value"), "number", 1),
        Column(label("col.target"), "number", 1),
        Column(label("col.variance"), "number", 1),
        Column(label("col.status"), "status"),
    ]
    table_rows = []
    for row in rows:
        indicator = indicators[row["indicator_id"]]
        name = indicator_title(indicator, row["breakdown"], formatter)
        if row.get("differs_by") is not None:
            name += " " + label("weekly.differs_by", points=formatter.signed(row["differs_by"]))
        values = [
            name,
            indicator.unit,
            period_value(
                row["period_type"],
                row["period_start"],
                formatter,
                partial=bool(row.get("is_partial_period")),
            ),
            row["value"],
            row["target"],
            row["variance"],
            row["status"],
        ]
        if with_sector:
            values.insert(0, sector_label(indicator.sector, formatter))
        table_rows.append(values)
    return Table(
        key=key,
        title=title,
        columns=columns,
        rows=table_rows,
        flagged_rows={i for i, row in enumerate(rows) if row["status"] == "red"},
        row_digits={i: indicators[row["indicator_id"]].digits for i, row in enumerate(rows)},
        empty_text=label("weekly.no_indicators"),
        note=partial_note(rows, formatter),
    )


def sector_label(sector: str, formatter: Formatter) -> str:
    try:
        return formatter.label(f"sector.{sector}")
    except KeyError:
        return sector


def status_headlines(rows: list[dict[str, Any]], formatter: Formatter) -> list[Headline]:
    counts = {
        status: sum(row["status"] == status for row in rows) for status in ("red", "amber", "green")
    }
    return [
        formatter.figure(counts[status], formatter.label(f"weekly.count_{status}"), status=status)
        for status in ("red", "amber", "green")
    ]
