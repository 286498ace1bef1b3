"""Reading the indicator catalogue and its values (indicators.dim_indicators and
indicators.fct_indicator_values) for the weekly and monthly reports.

Values are taken as the warehouse computed them (value, target, variance, status); nothing here
recomputes an indicator. Every read is bounded by the report's period: a week's own row, or a
month that ended on or before the period's last day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import duckdb

from warehouse.reports.formatting import Formatter

# Plan fulfilment indicators ("how far below plan"); the variants against the original and the
# latest plan version repeat the main one, so lists and trends leave them out.
PLAN_INDICATOR = re.compile(r"(fulfilment|attainment|progress)_pct$")
PLAN_VERSION_VARIANT = re.compile(r"_(original|in_force|latest)_")
STATUS_ORDER = {"red": 0, "amber": 1, "green": 2}
COUNT_UNITS = {"districts", "projects", "documents", "facility-medicine months"}


@dataclass(frozen=True)
class Indicator:
    indicator_id: str
    name: str
    unit: str  # translated where labels.yml knows the unit
    raw_unit: str
    sector: str
    ministry_id: str
    periodicity: tuple[str, ...]
    direction: str
    has_thresholds: bool
    target_type: str

    @property
    def is_plan_fulfilment(self) -> bool:
        return bool(PLAN_INDICATOR.search(self.indicator_id)) and not self.is_plan_variant

    @property
    def is_plan_variant(self) -> bool:
        return bool(PLAN_VERSION_VARIANT.search(self.indicator_id))

    @property
    def digits(self) -> int:
        """Decimals shown: none for counts, two for small units, one otherwise."""
        if self.raw_unit in COUNT_UNITS:
            return 0
        return 2 if self.raw_unit in ("bcm", "t/ha") else 1


def unit_label(unit: str | None, formatter: Formatter) -> str:
    if not unit:
        return ""
    try:
        return formatter.label(f"unit.{unit}")
    except KeyError:
        return unit


def catalogue(
    connection: duckdb.DuckDBPyConnection,
    formatter: Formatter,
    ministry_id: str | None = None,
) -> dict[str, Indicator]:
    """The catalogue's indicators (of one ministry, or all), names in the report's language."""
    language = formatter.language
    rows = connection.execute(
        f"""
        select indicator_id, name_{language}, unit, sector, ministry_id, periodicity,
            direction, green_threshold is not null, target_type
        from indicators.dim_indicators
        where ? is null or ministry_id = ?
        order by sector, indicator_id
        """,  # noqa: S608 - the language is one of three checked names
        [ministry_id, ministry_id],
    ).fetchall()
    return {
        row[0]: Indicator(
            indicator_id=row[0],
            name=row[1],
            unit=unit_label(row[2], formatter),
            raw_unit=row[2] or "",
            sector=row[3],
            ministry_id=row[4],
            periodicity=tuple(part.strip() for part in (row[5] or "").split(",")),
            direction=row[6] or "higher_is_better",
            has_thresholds=bool(row[7]),
            target_type=row[8] or "none",
        )
        for row in rows
    }


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def last_complete_month(period_end: dt.date) -> dt.date:
    """The first day of the latest month that ended on or before ``period_end``."""
    following = period_end + dt.timedelta(days=1)
    if following.day == 1:
        return month_start(period_end)
    return add_months(month_start(period_end), -1)


def breakdown_names(connection: duckdb.DuckDBPyConnection, language: str) -> dict[str, str]:
    """The name of every coded breakdown value in ``language`` (marts.dim_breakdowns; none
    for a snapshot from before it was built)."""
    try:
        rows = connection.execute(
            f"select breakdown, name_{language} from marts.dim_breakdowns"  # noqa: S608
            f" where name_{language} is not null"
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    return dict(rows)


def place_names(connection: duckdb.DuckDBPyConnection, language: str) -> dict[str, str]:
    """Every province and district the reference holds, its Turkmen name -> its name in
    ``language`` (current and former names alike: a name in a record may be an old one)."""
    rows = connection.execute(
        f"select name_tk, name_{language} from reference.ref_provinces"  # noqa: S608
        f" union select name_tk, name_{language} from reference.ref_districts"
    ).fetchall()
    return {turkmen: name for turkmen, name in rows if turkmen and name}


def breakdown_label(breakdown: str | None, formatter: Formatter) -> str:
    """A breakdown value for a reader: campaigns and livestock species translated."""
    if breakdown is None:
        return ""
    if breakdown in formatter.names:
        return formatter.names[breakdown]
    kind, _, year = breakdown.rpartition("_")
    if year.isdigit():
        try:
            return f"{formatter.label(f'campaign.{kind}')} {year}"
        except KeyError:
            pass
    try:
        return formatter.label(f"breakdown.{breakdown}")
    except KeyError:
        return breakdown


def country_values(
    connection: duckdb.DuckDBPyConnection,
    indicator_ids: list[str],
    period_type: str,
    period_start: dt.date,
) -> list[dict[str, Any]]:
    """Country-level rows (no enterprise) of the indicators for one period, all breakdowns."""
    if not indicator_ids:
        return []
    return (
        connection.execute(
            """
            select indicator_id, period_type, period_start, breakdown, value, target, variance,
                status, is_partial_period
            from indicators.fct_indicator_values
            where region_level = 'country' and enterprise_id is null
                and period_type = ? and period_start = ?
                and list_contains(?, indicator_id)
            order by indicator_id, breakdown nulls first
            """,
            [period_type, period_start, indicator_ids],
        )
        .pl()
        .to_dicts()
    )


def latest_month_values(
    connection: duckdb.DuckDBPyConnection,
    indicator_ids: list[str],
    latest_month: dt.date,
) -> list[dict[str, Any]]:
    """Country-level monthly rows: for each indicator its latest month up to ``latest_month``
    (a monthly system reports a month some weeks after it ends)."""
    if not indicator_ids:
        return []
    return (
        connection.execute(
            """
            with monthly as (
                select indicator_id, period_type, period_start, breakdown, value, target,
                    variance, status, is_partial_period
                from indicators.fct_indicator_values
                where region_level = 'country' and enterprise_id is null
                    and period_type = 'month' and period_start <= ?
                    and list_contains(?, indicator_id)
            )
            select * from monthly
            qualify period_start = max(period_start) over (partition by indicator_id)
            order by indicator_id, breakdown nulls first
            """,
            [latest_month, indicator_ids],
        )
        .pl()
        .to_dicts()
    )


def totals_or_breakdowns(rows: list[dict[str, Any]], limit: int = 6) -> list[dict[str, Any]]:
    """Per indicator: its total row when it has one, else its breakdown rows (at most ``limit``)."""
    by_indicator: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_indicator.setdefault(row["indicator_id"], []).append(row)
    chosen: list[dict[str, Any]] = []
    for indicator_rows in by_indicator.values():
        totals = [row for row in indicator_rows if row["breakdown"] is None]
        # Without a total, the breakdowns that most need attention (red first).
        worst_first = sorted(
            indicator_rows, key=lambda row: (STATUS_ORDER.get(row["status"], 3), row["breakdown"])
        )
        chosen.extend(totals or worst_first[:limit])
    return chosen


def series(
    connection: duckdb.DuckDBPyConnection,
    indicator_id: str,
    breakdown: str | None,
    period_type: str,
    first: dt.date,
    last: dt.date,
) -> list[dict[str, Any]]:
    """One indicator's country values over the periods starting from ``first`` to ``last``."""
    return (
        connection.execute(
            """
            select period_start, value, target, status
            from indicators.fct_indicator_values
            where region_level = 'country' and enterprise_id is null
                and indicator_id = ? and breakdown is not distinct from ?
                and period_type = ? and period_start between ? and ?
            order by period_start
            """,
            [indicator_id, breakdown, period_type, first, last],
        )
        .pl()
        .to_dicts()
    )


def most_below_plan(
    connection: duckdb.DuckDBPyConnection,
    indicator_ids: list[str],
    period_type: str,
    period_start: dt.date,
    *,
    enterprises: bool,
    language: str,
    limit: int = 10,
) -> list[dict[str, Any]]:
    """Enterprises (or districts) furthest below the plan on the plan fulfilment indicators."""
    if not indicator_ids:
        return []
    mart = "fct_enterprise_indicator_values" if enterprises else "fct_indicator_values"
    return (
        connection.execute(
            f"""
            select indicator_values.indicator_id, indicator_values.breakdown,
                indicator_values.value, indicator_values.target, indicator_values.variance,
                indicator_values.status, indicator_values.region_id,
                enterprises.enterprise_name,
                regions.name_{language} as region_name,
                provinces.name_{language} as province_name
            from indicators.{mart} as indicator_values
            left join marts.dim_enterprises as enterprises
                on indicator_values.enterprise_id = enterprises.enterprise_id
            left join marts.dim_regions as regions on indicator_values.region_id = regions.region_id
            left join marts.dim_regions as provinces
                on coalesce(regions.province_code, regions.region_id) = provinces.region_id
            where indicator_values.period_type = ? and indicator_values.period_start = ?
                and list_contains(?, indicator_values.indicator_id)
                and indicator_values.value < indicator_values.target
                and (
                    (? and indicator_values.enterprise_id is not null)
                    or (not ? and indicator_values.enterprise_id is null
                        and indicator_values.region_level = 'district')
                )
            order by indicator_values.variance, indicator_values.value,
                indicator_values.region_id, indicator_values.enterprise_id
            limit ?
            """,  # noqa: S608 - the language is one of three checked names, the mart one of two
            [period_type, period_start, indicator_ids, enterprises, enterprises, limit],
        )
        .pl()
        .to_dicts()
    )
