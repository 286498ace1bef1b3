"""The weekly report of one ministry: its indicators at country level with traffic lights, trend
charts of its key indicators, and the enterprises and districts furthest below plan.

Indicators published by week show the report's own week; those published by month show the
latest month that had ended by the week's last day (monthly systems report weeks later, so it
may be an earlier month; the period column says which).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from warehouse.reports.charts import trend_line
from warehouse.reports.content import (
    Column,
    ExcelChart,
    Figure,
    Headline,
    Period,
    ReportContent,
    Section,
    Table,
)
from warehouse.reports.formatting import Formatter, turkmen_ordinal
from warehouse.reports.indicators import (
    PLAN_VERSION_VARIANT,
    Indicator,
    add_months,
    breakdown_label,
    catalogue,
    country_values,
    last_complete_month,
    latest_month_values,
    most_below_plan,
    series,
    totals_or_breakdowns,
)

KEY_INDICATORS = 4
TREND_WEEKS = 8
TREND_MONTHS = 6
BELOW_PLAN_ROWS = 10


def ministry_name(connection: duckdb.DuckDBPyConnection, ministry_id: str, language: str) -> str:
    row = connection.execute(
        f"select name_{language} from marts.dim_ministries where ministry_id = ?",  # noqa: S608
        [ministry_id],
    ).fetchone()
    if row is None:
        raise ValueError(f"unknown ministry {ministry_id!r} (not in marts.dim_ministries)")
    return str(row[0])


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


def axis_label(period_type: str, period_start: dt.date, formatter: Formatter) -> str:
    """A period on a chart's axis: a week's Monday, or a month."""
    if period_type == "week":
        return (
            period_start.strftime("%d.%m")
            if formatter.language != "en"
            else f"{period_start:%d %b}"
        )
    return formatter.month_short(period_start)


def indicator_title(indicator: Indicator, breakdown: str | None, formatter: Formatter) -> str:
    detail = breakdown_label(breakdown, formatter)
    return f"{indicator.name} ({detail})" if detail else indicator.name


def indicator_rows(
    connection: duckdb.DuckDBPyConnection,
    indicators: dict[str, Indicator],
    week_start: dt.date,
    period_end: dt.date,
) -> list[dict[str, Any]]:
    """Each indicator's value for the week, or for the latest month ended by the week's end."""
    weekly = [key for key, indicator in indicators.items() if "week" in indicator.periodicity]
    monthly = [
        key
        for key, indicator in indicators.items()
        if "week" not in indicator.periodicity and "month" in indicator.periodicity
    ]
    rows = country_values(connection, weekly, "week", week_start)
    rows += latest_month_values(connection, monthly, last_complete_month(period_end))
    order = list(indicators)
    rows = sorted(totals_or_breakdowns(rows), key=lambda row: order.index(row["indicator_id"]))
    return without_repeated_plan_versions(rows)


# Plan fulfilment against the original plan, the plan in force and the latest revision: the
# same figure unless the plan was revised. A revision is shown where it changes the figure.
SAME_FIGURE = 0.05


def _plan_family(indicator_id: str) -> str:
    return PLAN_VERSION_VARIANT.sub("_", indicator_id)


def without_repeated_plan_versions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan in force's fulfilment of each commodity, with the original plan's or the latest
    revision's only where it differs from it (``differs_by``: its value minus the plan in
    force's, in points)."""

    def rank(identifier: str) -> int:  # the plan in force first: the family's own figure
        if _plan_family(identifier) == identifier:
            return 0
        return 1 if "_in_force_" in identifier else 2

    primary: dict[tuple[str, str | None, Any], dict[str, Any]] = {}
    for row in sorted(rows, key=lambda row: rank(row["indicator_id"])):
        primary.setdefault(
            (_plan_family(row["indicator_id"]), row["breakdown"], row["period_start"]), row
        )
    kept = []
    for row in rows:
        reference = primary[
            (_plan_family(row["indicator_id"]), row["breakdown"], row["period_start"])
        ]
        if reference is row:
            kept.append(row)
            continue
        if row["value"] is None or reference["value"] is None:
            continue
        difference = row["value"] - reference["value"]
        if abs(difference) >= SAME_FIGURE:
            kept.append({**row, "differs_by": difference})
    return kept


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


def below_plan_table(
    rows: list[dict[str, Any]],
    indicators: dict[str, Indicator],
    formatter: Formatter,
    *,
    enterprises: bool,
    key: str,
    title: str,
    period_text: str,
) -> Table:
    label = formatter.label
    first_columns = (
        [Column(label("col.enterprise")), Column(label("col.province"))]
        if enterprises
        else [Column(label("col.district")), Column(label("col.province"))]
    )
    return Table(
        key=key,
        title=title,
        note=period_text,
        columns=[
            *first_columns,
            Column(label("col.indicator")),
            Column(label("col.value"), "number", 1),
            Column(label("col.target"), "number", 1),
            Column(label("col.variance"), "number", 1),
            Column(label("col.status"), "status"),
        ],
        rows=[
            [
                formatter.proper_name(row["enterprise_name"])
                if enterprises
                else row["region_name"],
                row["province_name"],
                indicator_title(indicators[row["indicator_id"]], row["breakdown"], formatter),
                row["value"],
                row["target"],
                row["variance"],
                row["status"],
            ]
            for row in rows
        ],
        empty_text=label("weekly.none_below_plan"),
    )


def build_content(
    connection: duckdb.DuckDBPyConnection,
    period_start: dt.date,
    period_end: dt.date,
    scope: str | None,
    formatter: Formatter,
) -> ReportContent | None:
    """The weekly report of ministry ``scope`` for the ISO week starting ``period_start``."""
    if scope is None:
        raise ValueError("a weekly ministry report needs the ministry as its scope")
    label = formatter.label
    name = ministry_name(connection, scope, formatter.language)
    indicators = catalogue(connection, formatter, ministry_id=scope)
    rows = indicator_rows(connection, indicators, period_start, period_end)

    overview = Section(title=label("weekly.indicators"))
    overview.headlines = status_headlines(rows, formatter)
    overview.blocks.append(
        indicators_table(
            rows,
            indicators,
            formatter,
            key=label("weekly.indicators"),
            title=label("weekly.indicators_table"),
        )
    )

    figures, trend_tables = trend_blocks(connection, indicators, rows, period_end, formatter)
    trends = Section(title=label("weekly.trends"))
    trends.blocks.extend(figures)
    trends.blocks.extend(trend_tables)
    if not figures:
        trends.paragraphs.append(label("weekly.no_trends"))

    plan_ids = [key for key, indicator in indicators.items() if indicator.is_plan_fulfilment]
    weekly_plan = [key for key in plan_ids if "week" in indicators[key].periodicity]
    monthly_plan = [key for key in plan_ids if key not in weekly_plan]
    below = Section(title=label("weekly.below_plan"))
    month = last_complete_month(period_end)
    # The week for weekly indicators; for monthly ones, the latest month with values.
    for enterprises, table_label in (
        (True, "weekly.enterprises_below_plan"),
        (False, "weekly.districts_below_plan"),
    ):
        found = most_below_plan(
            connection,
            weekly_plan,
            "week",
            period_start,
            enterprises=enterprises,
            language=formatter.language,
            limit=BELOW_PLAN_ROWS,
        )
        period_text = label(
            "weekly.period_note", period=period_cell("week", period_start, formatter)
        )
        if not found and monthly_plan:
            latest = _latest_month_with_rows(connection, monthly_plan, month, enterprises)
            if latest is not None:
                found = most_below_plan(
                    connection,
                    monthly_plan,
                    "month",
                    latest,
                    enterprises=enterprises,
                    language=formatter.language,
                    limit=BELOW_PLAN_ROWS,
                )
                period_text = label(
                    "weekly.period_note", period=period_cell("month", latest, formatter)
                )
        below.blocks.append(
            below_plan_table(
                found,
                indicators,
                formatter,
                enterprises=enterprises,
                key=label(table_label),
                title=label(table_label),
                period_text=period_text,
            )
        )

    return ReportContent(
        kind="weekly_ministry",
        language=formatter.language,
        title=label("title.weekly_ministry"),
        subtitle=f"{name} · {formatter.week(period_start)}",
        period_start=period_start,
        period_end=period_end,
        sections=[overview, trends, below],
        scope=scope,
    )


def _latest_month_with_rows(
    connection: duckdb.DuckDBPyConnection,
    indicator_ids: list[str],
    latest_month: dt.date,
    enterprises: bool,
) -> dt.date | None:
    row = connection.execute(
        """
        select max(period_start) from indicators.fct_indicator_values
        where period_type = 'month' and period_start <= ? and list_contains(?, indicator_id)
            and (
                (? and enterprise_id is not null)
                or (not ? and enterprise_id is null and region_level = 'district')
            )
        """,
        [latest_month, indicator_ids, enterprises, enterprises],
    ).fetchone()
    return row[0] if row else None
