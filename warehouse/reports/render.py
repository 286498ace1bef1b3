"""Render a management report for one period, language and scope into HTML, PDF and XLSX.

Every report reads only a published snapshot (a read-only connection) and every query is bounded
by the report's period, so a past day, week or month renders again the same way. The three files
are written under temporary names and renamed into place only when all three are complete: a
reader (or a mail) never sees half a report.
"""

from __future__ import annotations

import base64
import datetime as dt
import numbers
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from maglumat import clock
from warehouse.reports import daily_campaign, monthly_government, weekly_ministry
from warehouse.reports.attention import attention_section, system_names
from warehouse.reports.content import Column, ReportContent, Section, Table
from warehouse.reports.formatting import Formatter
from warehouse.reports.indicators import breakdown_names, place_names

__all__ = [
    "REPORT_KINDS",
    "RenderedReport",
    "period_end_of",
    "period_label",
    "render_report",
    "report_scopes",
]

REPORT_KINDS = ("daily_campaign", "weekly_ministry", "monthly_government")
TEMPLATES = Path(__file__).parent / "templates"

ReportBuilder = Callable[
    [duckdb.DuckDBPyConnection, dt.date, dt.date, str | None, Formatter], ReportContent | None
]
_BUILDERS: dict[str, ReportBuilder] = {
    "daily_campaign": daily_campaign.build_content,
    "weekly_ministry": weekly_ministry.build_content,
    "monthly_government": monthly_government.build_content,
}


@dataclass(frozen=True)
class RenderedReport:
    kind: str
    period_start: dt.date  # the day / the Monday of the ISO week / the first of the month
    period_end: dt.date  # inclusive
    language: str
    scope: str | None  # ministry_id for weekly_ministry, else None
    title: str  # in the report's language
    html_path: Path
    pdf_path: Path
    xlsx_path: Path


def _check_kind(kind: str) -> None:
    if kind not in REPORT_KINDS:
        raise ValueError(f"unknown report kind {kind!r}; expected one of {REPORT_KINDS}")


def period_end_of(kind: str, period_start: dt.date) -> dt.date:
    """The last day of the report's period; ``period_start`` must be the period's first day."""
    _check_kind(kind)
    if kind == "daily_campaign":
        return period_start
    if kind == "weekly_ministry":
        if period_start.isoweekday() != 1:
            raise ValueError(f"a weekly report starts on a Monday, not on {period_start}")
        return period_start + dt.timedelta(days=6)
    if period_start.day != 1:
        raise ValueError(f"a monthly report starts on the first of a month, not on {period_start}")
    next_month = (period_start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return next_month - dt.timedelta(days=1)


def period_label(kind: str, period_start: dt.date) -> str:
    """The period in file names: 2023-09-30, 2023-W39 or 2023-09."""
    _check_kind(kind)
    if kind == "daily_campaign":
        return period_start.isoformat()
    if kind == "weekly_ministry":
        year, week, _ = period_start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{period_start:%Y-%m}"


def report_scopes(kind: str, connection: duckdb.DuckDBPyConnection) -> list[str | None]:
    """[None] for daily/monthly; the ministry ids (from marts.dim_ministries) for
    weekly_ministry."""
    _check_kind(kind)
    if kind != "weekly_ministry":
        return [None]
    rows = connection.execute(
        "select distinct ministry_id from marts.dim_ministries order by ministry_id"
    ).fetchall()
    return [row[0] for row in rows]


def file_stem(kind: str, period_start: dt.date, language: str, scope: str | None) -> str:
    scope_part = f"_{scope}" if scope else ""
    return f"{kind}{scope_part}_{period_label(kind, period_start)}_{language}"


# Rendering -----------------------------------------------------------------------------------


def _css_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(content: ReportContent, generated_at: dt.datetime) -> str:
    """The report as one self-contained HTML page (no external URL: charts are data URIs)."""
    formatter = Formatter(content.language)

    def cell(value: Any, column: Column, digits: int) -> str:
        if value is None:
            return "–"
        if column.kind in ("number", "percent") and isinstance(value, numbers.Real | Decimal):
            return formatter.number(float(value), digits)
        if column.kind == "date" and isinstance(value, dt.date):
            return formatter.short_date(value)
        if column.kind == "status":
            return formatter.label(f"status.{value}")
        return str(value)

    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    environment.filters["css_string"] = _css_string
    environment.filters["data_uri"] = _data_uri
    environment.filters["cell"] = cell
    return environment.get_template("report.html").render(
        content=content,
        page_label=formatter.label("page"),
        generated_label=formatter.label("generated", timestamp=formatter.timestamp(generated_at)),
    )


def write_pdf(html: str, path: Path) -> None:
    """The PDF of the same HTML (WeasyPrint; imported here, it is slow to import)."""
    from weasyprint import HTML

    HTML(string=html, base_url=str(TEMPLATES)).write_pdf(path)


def data_status_section(
    snapshot_metadata: dict[str, Any],
    formatter: Formatter,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> Section:
    """What the figures rest on, per sector system in the reader's language: its name, the
    last day (or month) of data it delivered, whether it is late and since when, and what of
    it is held or quarantined, from snapshot.json and the snapshot's own ledger."""
    label = formatter.label
    section = Section(title=label("status.title"))
    systems = system_names(connection, formatter.language)
    monthly = _monthly_systems(connection)
    quarantined = _quarantined_rows(connection)

    def name(system: str) -> str:
        return systems.get(system, system)

    held_by_system: dict[str, int] = {}
    for batch in snapshot_metadata.get("held_batches") or []:
        held_by_system[batch["system"]] = held_by_system.get(batch["system"], 0) + 1
    if held_by_system:
        held = "; ".join(
            label("status.held_system", system=name(system), batches=count)
            for system, count in sorted(held_by_system.items(), key=lambda item: name(item[0]))
        )
        section.warnings.add(len(section.paragraphs))
        section.paragraphs.append(label("status.held", batches=held))
    else:
        section.paragraphs.append(label("status.no_held"))
    deliveries = {d["system"]: d for d in snapshot_metadata.get("deliveries") or []}
    late = [system for system, delivery in deliveries.items() if delivery.get("is_late")]
    if late:
        section.warnings.add(len(section.paragraphs))
        section.paragraphs.append(
            label("status.late", systems="; ".join(sorted(name(system) for system in late)))
        )
    else:
        section.paragraphs.append(label("status.no_late"))
    through: dict[str, str] = {}
    for source in snapshot_metadata.get("sources") or []:
        value = source.get("data_through")
        if value and str(value) > through.get(source["system"], ""):
            through[source["system"]] = str(value)
    rows = []
    for system in sorted(set(deliveries) | set(through), key=name):
        delivery = deliveries.get(system, {})
        if delivery.get("is_late"):
            since = delivery.get("due_since")
            state = label("status.late_since", since=formatter.timestamp(since) if since else "–")
        else:
            state = label("status.on_time")
        rows.append(
            [
                name(system),
                _last_delivered(
                    through.get(system), delivery.get("last_delivery"), formatter, system in monthly
                ),
                state,
                held_by_system.get(system, 0),
                quarantined.get(system, 0),
            ]
        )
    if rows:
        section.blocks.append(
            Table(
                key=label("status.title"),
                title=label("status.systems"),
                columns=[
                    Column(label("status.col.system")),
                    Column(label("status.col.delivered"), nowrap=True),
                    Column(label("status.col.delivery")),
                    Column(label("status.col.held"), "number"),
                    Column(label("status.col.quarantined"), "number"),
                ],
                rows=rows,
                flagged_rows={
                    index
                    for index, row in enumerate(rows)
                    if row[3] or row[2] != label("status.on_time")
                },
            )
        )
    section.paragraphs.append(
        label(
            "status.published", published=formatter.timestamp(snapshot_metadata.get("published_at"))
        )
    )
    return section


def _monthly_systems(connection: duckdb.DuckDBPyConnection | None) -> set[str]:
    rows = _rows_if_built(
        connection,
        "select system_name from reference.ref_delivery_schedules where every = 'month'",
    )
    return {row[0] for row in rows}


def _quarantined_rows(connection: duckdb.DuckDBPyConnection | None) -> dict[str, int]:
    """Rows each system has in quarantine (the loaded batches' failing rows)."""
    rows = _rows_if_built(
        connection,
        "select system_name, sum(quarantined_rows) from marts.fct_source_quality group by 1",
    )
    return {system: int(count or 0) for system, count in rows}


def _rows_if_built(connection: duckdb.DuckDBPyConnection | None, sql: str) -> list[tuple]:
    """The query's rows; none without a connection or from a snapshot built before the
    table it reads existed."""
    if connection is None:
        return []
    try:
        return connection.execute(sql).fetchall()
    except duckdb.CatalogException:
        return []


def _last_delivered(
    mark: str | None, delivered: str | None, formatter: Formatter, monthly: bool
) -> str:
    """When a system last delivered: the day (the month, for a monthly system) its latest
    batch was landed, in Aşgabat; without a delivery record, its high-water mark where that
    is a date (an inbox's mark is a checksum)."""
    for value in (delivered, mark):
        if not value:
            continue
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            continue
        if moment.tzinfo is not None:
            moment = moment.astimezone(clock.LOCAL_TIMEZONE)
        return formatter.month(moment.date()) if monthly else formatter.short_date(moment.date())
    return "–"


def render_report(
    kind: str,
    period_start: dt.date,
    language: str,
    scope: str | None,
    connection: duckdb.DuckDBPyConnection,
    snapshot_metadata: dict[str, Any],
    out_dir: Path,
) -> RenderedReport | None:
    """Render one report into out_dir (files named
    <kind>[_<scope>]_<period>_<language>.{html,pdf,xlsx}).

    Writes to temporary names and renames into place only when all three files are complete.
    Returns None when there is nothing to report for that period (daily: no campaign under way
    that day).
    """
    from warehouse.reports.xlsx import write_workbook

    period_end = period_end_of(kind, period_start)
    formatter = Formatter(
        language,
        names=breakdown_names(connection, language),
        place_names=place_names(connection, language),
    )
    if kind == "weekly_ministry" and not scope:
        raise ValueError("a weekly ministry report needs the ministry as its scope")
    if kind != "weekly_ministry" and scope is not None:
        raise ValueError(f"a {kind} report has no scope, got {scope!r}")
    content = _BUILDERS[kind](connection, period_start, period_end, scope, formatter)
    if content is None:
        return None
    content.sections.insert(
        0,
        attention_section(
            connection, kind, period_start, period_end, scope, snapshot_metadata, formatter
        ),
    )
    content.data_status = data_status_section(snapshot_metadata, formatter, connection)

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(kind, period_start, language, scope)
    final = {suffix: out_dir / f"{stem}.{suffix}" for suffix in ("html", "pdf", "xlsx")}
    staging = Path(tempfile.mkdtemp(prefix=f".{stem}.", suffix=".tmp", dir=out_dir))
    try:
        html = render_html(content, clock.now())
        (staging / "report.html").write_text(html, encoding="utf-8")
        write_pdf(html, staging / "report.pdf")
        write_workbook(content, staging / "report.xlsx")
        # All three are complete: move them into place (same file system, so each is atomic).
        for suffix, target in final.items():
            os.replace(staging / f"report.{suffix}", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RenderedReport(
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        language=language,
        scope=scope,
        title=content.title,
        html_path=final["html"],
        pdf_path=final["pdf"],
        xlsx_path=final["xlsx"],
    )
