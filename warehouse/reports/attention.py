"""The first glance of every report: the three to five findings a minister should act on,
generated from the statuses before the detail. What turned red since the previous period comes
first, then what stays red (worst first), then the systems whose data is late or held back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb

from warehouse.reports.content import Section
from warehouse.reports.formatting import Formatter
from warehouse.reports.indicator_tables import indicator_title, period_cell
from warehouse.reports.indicators import Indicator, catalogue

MAX_FINDINGS = 5
MAX_INDICATOR_FINDINGS = 3  # room is kept for late and held data, which every figure rests on
# The period types a report's findings come from, finest first: a monthly indicator counts in
# the weekly report with its latest month.
_PERIOD_TYPES = {
    "daily_campaign": ("day",),
    "weekly_ministry": ("week", "month"),
    "monthly_government": ("month",),
}


@dataclass(frozen=True)
class _Reading:
    indicator: Indicator
    breakdown: str | None
    period_type: str
    period_start: dt.date
    value: float | None
    target: float | None
    variance: float | None
    status: str
    previous_status: str | None


def attention_section(
    connection: duckdb.DuckDBPyConnection,
    kind: str,
    period_start: dt.date,
    period_end: dt.date,
    scope: str | None,
    snapshot_metadata: dict[str, Any],
    formatter: Formatter,
) -> Section:
    label = formatter.label
    section = Section(title=label("attention.title"))
    indicators = catalogue(connection, formatter, scope if kind == "weekly_ministry" else None)
    if kind == "daily_campaign":
        indicators = {k: v for k, v in indicators.items() if v.sector == "agriculture"}
    sectors = {indicator.sector for indicator in indicators.values()}
    # A month is reported some weeks after it ends: the month before counts as current too.
    first_month = (period_start.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    readings = [
        reading
        for reading in _readings(connection, indicators, _PERIOD_TYPES[kind], period_end)
        if reading.period_start >= (first_month if reading.period_type == "month" else period_start)
    ]
    turned = [r for r in readings if r.status == "red" and r.previous_status != "red"]
    stays = [r for r in readings if r.status == "red" and r.previous_status == "red"]
    red = sorted(turned, key=_worst_first) + sorted(stays, key=_worst_first)
    findings = [_indicator_finding(reading, formatter) for reading in red]
    names = system_names(connection, formatter.language)
    systems = _systems_by_sector(connection)
    data: list[str] = []
    for delivery in snapshot_metadata.get("deliveries") or []:
        if delivery.get("is_late") and systems.get(delivery["system"]) in sectors:
            name = names.get(delivery["system"], delivery["system"])
            data.append(label("attention.late", system=name))
    held: dict[str, int] = {}
    for batch in snapshot_metadata.get("held_batches") or []:
        if systems.get(batch["system"]) in sectors:
            held[batch["system"]] = held.get(batch["system"], 0) + 1
    for system, count in sorted(held.items()):
        data.append(label("attention.held", system=names.get(system, system), batches=count))
    if not findings and not data:
        section.paragraphs.append(label("attention.none"))
        return section
    room = max(MAX_INDICATOR_FINDINGS, MAX_FINDINGS - len(data))
    shown = findings[:room] + data[: MAX_FINDINGS - min(room, len(findings))]
    if len(findings) > room:
        shown.append(label("attention.more", count=len(findings) - room))
    section.paragraphs.extend(shown)
    section.warnings.update(range(len(shown)))
    return section


def _worst_first(reading: _Reading) -> tuple[float, str]:
    """Furthest from target first (variance is value minus target, signed by direction)."""
    gap = abs(reading.variance) if reading.variance is not None else 0.0
    return (-gap, reading.indicator.indicator_id)


def _readings(
    connection: duckdb.DuckDBPyConnection,
    indicators: dict[str, Indicator],
    period_types: tuple[str, ...],
    period_end: dt.date,
) -> list[_Reading]:
    """Each indicator's (and breakdown's) latest status up to the report's end, in the finest
    period type it has, with the status of the period before."""
    if not indicators:
        return []
    rows = connection.execute(
        """
        with statuses as (
            select indicator_id, breakdown, period_type, period_start, value, target,
                variance, status,
                lead(status) over (
                    partition by indicator_id, breakdown, period_type
                    order by period_start desc
                ) as previous_status,
                row_number() over (
                    partition by indicator_id, breakdown, period_type
                    order by period_start desc
                ) as recency,
                list_position(?, period_type) as fineness
            from indicators.fct_indicator_values
            where region_level = 'country' and enterprise_id is null and status is not null
                and list_contains(?, period_type) and period_start <= ?
                and list_contains(?, indicator_id)
        )
        select indicator_id, breakdown, period_type, period_start, value, target, variance,
            status, previous_status
        from statuses
        where recency = 1
        qualify fineness = min(fineness) over (partition by indicator_id, breakdown)
        order by indicator_id, breakdown nulls first
        """,
        [list(period_types), list(period_types), period_end, list(indicators)],
    ).fetchall()
    return [
        _Reading(indicators[row[0]], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8])
        for row in rows
    ]


def _amount(value: float | None, indicator: Indicator, formatter: Formatter) -> str:
    if value is None:
        return "–"
    if indicator.raw_unit == "%":
        return formatter.percent(value, indicator.digits)
    return f"{formatter.number(value, indicator.digits)} {indicator.unit}".strip()


def _indicator_finding(reading: _Reading, formatter: Formatter) -> str:
    values = {
        "name": indicator_title(reading.indicator, reading.breakdown, formatter),
        "value": _amount(reading.value, reading.indicator, formatter),
        "target": _amount(reading.target, reading.indicator, formatter),
        "period": period_cell(reading.period_type, reading.period_start, formatter),
    }
    if reading.previous_status != "red":
        before = (
            formatter.label(f"status.{reading.previous_status}")
            if reading.previous_status
            else formatter.label("attention.no_status")
        )
        return formatter.label("attention.turned_red", before=before, **values)
    return formatter.label("attention.red", **values)


def system_names(connection: duckdb.DuckDBPyConnection | None, language: str) -> dict[str, str]:
    """Each sector system's name in ``language`` (reference.ref_source_systems), by id; none
    for a snapshot from before the names were kept (the ids are shown then)."""
    if connection is None:
        return {}
    try:
        rows = connection.execute(
            f"select system_name, name_{language} from reference.ref_source_systems"  # noqa: S608
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    return dict(rows)


def _systems_by_sector(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    try:
        rows = connection.execute(
            "select system_name, sector from reference.ref_delivery_schedules"
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    return dict(rows)
