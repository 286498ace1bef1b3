"""The report as an Excel workbook (xlsxwriter): a summary sheet, one sheet per table with a
frozen header, number formats and native Excel charts, and the data status."""

from __future__ import annotations

import datetime as dt
import numbers
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from warehouse.reports.content import Column, Headline, Period, ReportContent, Table
from warehouse.reports.formatting import Formatter

STATUS_COLOURS = {"green": "#C8E6C9", "amber": "#FFE0B2", "red": "#FFCDD2"}
SHEET_NAME_LIMIT = 31  # Excel's limit
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
HEADER_ROW = 2  # row 0: the table's title, row 1: blank, row 2: the column labels


class _SheetNames:
    """Unique, valid Excel sheet names."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, name: str) -> str:
        base = _SHEET_FORBIDDEN.sub(" ", name).strip()[:SHEET_NAME_LIMIT] or "Sheet"
        candidate, counter = base, 2
        while candidate.lower() in self.used:
            suffix = f" ({counter})"
            candidate = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
            counter += 1
        self.used.add(candidate.lower())
        return candidate


class _Formats:
    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.subtitle = workbook.add_format({"italic": True, "font_color": "#555555"})
        self.header = workbook.add_format(
            {"bold": True, "bg_color": "#E0E0E0", "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        self.text = workbook.add_format({"valign": "top"})
        self.wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.date = workbook.add_format({"num_format": "dd.mm.yyyy"})
        self.status = {
            status: workbook.add_format({"bg_color": colour, "align": "center"})
            for status, colour in STATUS_COLOURS.items()
        }
        self._numbers: dict[int, Format] = {}
        self._figures: dict[tuple[int, str, str], Format] = {}
        self._periods: dict[tuple[str, bool, str], Format] = {}

    def period(self, period: Period, formatter: Formatter) -> Format:
        """A period's first day written as the report writes the period: its month, its day,
        or the week it begins; the partial-period mark after it."""
        key = (period.kind, period.partial, formatter.language)
        if key not in self._periods:
            if period.kind == "month":
                pattern = "mmm yyyy"
            elif period.kind == "week":
                words = formatter.label("xlsx.week_from").replace('"', "")
                pattern = f'"{words} "dd.mm.yyyy'
            else:
                pattern = "dd.mm.yyyy"
            if period.partial:
                pattern += '" *"'
            self._periods[key] = self.workbook.add_format({"num_format": pattern})
        return self._periods[key]

    def figure(self, digits: int, unit: str, status: str | None) -> Format:
        """A headline number's format: its digits and its unit as literal text, and its
        status colour."""
        key = (digits, unit, status or "")
        if key not in self._figures:
            pattern = "#,##0" + ("." + "0" * digits if digits else "")
            if unit:
                pattern += ' "' + unit.replace('"', "") + '"'
            spec: dict[str, Any] = {"num_format": pattern, "align": "right"}
            if status in STATUS_COLOURS:
                spec["bg_color"] = STATUS_COLOURS[status]
            self._figures[key] = self.workbook.add_format(spec)
        return self._figures[key]

    def number(self, digits: int) -> Format:
        if digits not in self._numbers:
            pattern = "#,##0" + ("." + "0" * digits if digits else "")
            self._numbers[digits] = self.workbook.add_format({"num_format": pattern})
        return self._numbers[digits]


def _write_headline(sheet: Worksheet, row: int, headline: Headline, formats: _Formats) -> None:
    """A headline figure as a typed cell (a number with its unit and digits in the number
    format, or a date), coloured by its status; text only where the figure is words."""
    amount = headline.amount
    if isinstance(amount, dt.date):
        sheet.write_datetime(row, 1, dt.datetime.combine(amount, dt.time()), formats.date)
    elif headline.kind in ("number", "percent") and isinstance(amount, numbers.Real | Decimal):
        unit = "%" if headline.kind == "percent" else headline.unit
        sheet.write_number(
            row, 1, float(amount), formats.figure(headline.digits, unit, headline.status)
        )
    else:
        sheet.write_string(
            row, 1, headline.value, formats.status.get(headline.status or "", formats.text)
        )


def _column_width(column: Column, rows: list[list[Any]], index: int) -> float:
    widest = max([len(column.label) * 0.8] + [len(str(row[index])) for row in rows[:200]])
    return min(max(widest + 2, 9), 48)


def _write_cell(
    sheet: Worksheet,
    row: int,
    col: int,
    value: Any,
    column: Column,
    digits: int,
    formats: _Formats,
    formatter: Formatter,
) -> None:
    if value is None:
        sheet.write_blank(row, col, None)
    elif isinstance(value, Period) and value.kind in ("day", "week", "month"):
        moment = dt.datetime.combine(value.start, dt.time())
        sheet.write_datetime(row, col, moment, formats.period(value, formatter))
    elif column.kind in ("number", "percent") and isinstance(value, numbers.Real | Decimal):
        sheet.write_number(row, col, float(value), formats.number(digits))
    elif column.kind == "date" and isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), formats.date)
    elif column.kind == "status" and value in STATUS_COLOURS:
        sheet.write_string(row, col, formatter.label(f"status.{value}"), formats.status[value])
    else:
        sheet.write_string(row, col, str(value), formats.text)


def _write_table(
    workbook: Workbook,
    sheet: Worksheet,
    table: Table,
    formats: _Formats,
    formatter: Formatter,
) -> None:
    sheet.write_string(0, 0, table.title, formats.title)
    if table.note:
        sheet.write_string(1, 0, table.note, formats.subtitle)
    for col, column in enumerate(table.columns):
        sheet.write_string(HEADER_ROW, col, column.label, formats.header)
        sheet.set_column(col, col, _column_width(column, table.rows, col))
    for offset, values in enumerate(table.rows, start=1):
        for col, column in enumerate(table.columns):
            digits = table.row_digits.get(offset - 1, column.digits)
            _write_cell(
                sheet, HEADER_ROW + offset, col, values[col], column, digits, formats, formatter
            )
    if not table.rows and table.empty_text:
        sheet.write_string(HEADER_ROW + 1, 0, table.empty_text, formats.text)
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    if table.rows:
        sheet.autofilter(HEADER_ROW, 0, HEADER_ROW + len(table.rows), len(table.columns) - 1)
    first, last = HEADER_ROW + 1, HEADER_ROW + len(table.rows)
    anchor_col = len(table.columns) + 1
    for number, spec in enumerate(table.charts):
        if not table.rows:
            break
        chart = workbook.add_chart({"type": spec.kind})
        for value_column in spec.value_columns:
            chart.add_series(
                {
                    "name": [sheet.name, HEADER_ROW, value_column],
                    "categories": [
                        sheet.name,
                        first,
                        spec.category_column,
                        last,
                        spec.category_column,
                    ],
                    "values": [sheet.name, first, value_column, last, value_column],
                    "marker": {"type": "circle"} if spec.kind == "line" else None,
                }
            )
        chart.set_title({"name": spec.title, "name_font": {"size": 11}})
        value_axis = {"name": spec.axis_title, "major_gridlines": {"visible": True}}
        if spec.kind == "bar":
            chart.set_x_axis(value_axis)
            chart.set_y_axis({"reverse": True})
            chart.set_size({"width": 640, "height": max(300, 22 * len(table.rows) + 80)})
        else:
            chart.set_y_axis(value_axis)
            chart.set_size({"width": 640, "height": 320})
        chart.set_legend({"position": "bottom" if len(spec.value_columns) > 1 else "none"})
        sheet.insert_chart(HEADER_ROW + number * 18, anchor_col, chart)


def write_workbook(content: ReportContent, path: Path) -> None:
    """Write ``content`` to ``path`` as an XLSX workbook."""
    formatter = Formatter(content.language)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    workbook.set_properties(
        {"title": content.title, "subject": content.subtitle, "company": "Maglumat"}
    )
    formats = _Formats(workbook)
    sheet_name = _SheetNames()
    summary = workbook.add_worksheet(sheet_name(formatter.label("xlsx.summary_sheet")))
    summary.set_column(0, 0, 60)
    summary.set_column(1, 1, 24)
    summary.write_string(0, 0, content.title, formats.title)
    summary.write_string(1, 0, content.subtitle, formats.subtitle)
    row = 3
    for section in content.sections:
        if not section.headlines and not section.paragraphs:
            continue
        summary.write_string(row, 0, section.title, formats.header)
        summary.write_string(row, 1, "", formats.header)
        row += 1
        for headline in section.headlines:
            summary.write_string(row, 0, headline.label, formats.wrapped)
            _write_headline(summary, row, headline, formats)
            row += 1
        for paragraph in section.paragraphs:
            summary.write_string(row, 0, paragraph, formats.wrapped)
            row += 1
        row += 1
    for section in content.sections:
        for table in section.tables():
            sheet = workbook.add_worksheet(sheet_name(table.key))
            _write_table(workbook, sheet, table, formats, formatter)
    status_sheet = workbook.add_worksheet(sheet_name(content.data_status.title))
    status_sheet.set_column(0, 0, 110)
    status_sheet.write_string(0, 0, content.data_status.title, formats.title)
    for offset, paragraph in enumerate(content.data_status.paragraphs, start=2):
        status_sheet.write_string(offset, 0, paragraph, formats.wrapped)
    for table in content.data_status.tables():
        sheet = workbook.add_worksheet(sheet_name(table.title))
        _write_table(workbook, sheet, table, formats, formatter)
    workbook.close()
