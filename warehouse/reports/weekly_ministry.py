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

from warehouse.reports.content import Column, ReportContent, Section, Table
from warehouse.reports.formatting import Formatter
from warehouse.reports.indicator_tables import (
    indicator_title,
    indicators_table,
    period_cell,
    status_headlines,
)
from warehouse.reports.indicators import (
    PLAN_VERSION_VARIANT,
    Indicator,
    catalogue,
    country_values,
    last_complete_month,
    latest_month_values,
    most_below_plan,
    totals_or_breakdowns,
)
from warehouse.reports.weekly_ministry_trends import trend_blocks

BELOW_PLAN_ROWS = 10


def ministry_name(connection: duckdb.DuckDBPyConnection, ministry_id: str, language: str) -> str:
    row = connection.execute(
        f"select name_{language} from marts.dim_ministries where ministry_id = ?",  # noqa: S608
        [ministry_id],
    ).fetchone()
    if row is None:
        raise ValueError(f"unknown ministry {ministry_id!r} (not in marts.dim_ministries)")
    return str(row[0])


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
    mart = "fct_enterprise_indicator_values" if enterprises else "fct_indicator_values"
    row = connection.execute(
        f"""
        select max(period_start) from indicators.{mart}
        where period_type = 'month' and period_start <= ? and list_contains(?, indicator_id)
            and (
                (? and enterprise_id is not null)
                or (not ? and enterprise_id is null and region_level = 'district')
            )
        """,  # noqa: S608 - the mart is one of two names
        [latest_month, indicator_ids, enterprises, enterprises],
    ).fetchone()
    return row[0] if row else None
