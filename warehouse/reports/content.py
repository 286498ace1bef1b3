"""What a report says, independent of its format: sections of headline figures, tables and
charts. The HTML (and so the PDF) and the XLSX workbook are both rendered from it, so the three
files always carry the same numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

ColumnKind = Literal["text", "number", "percent", "date", "status"]
STATUSES = ("green", "amber", "red")


@dataclass(frozen=True)
class Column:
    """A table column: ``number`` and ``percent`` cells hold raw numbers (formatted per language
    in HTML, given a number format in XLSX); ``status`` cells hold green/amber/red."""

    label: str
    kind: ColumnKind = "text"
    digits: int = 0
    nowrap: bool = False


@dataclass(frozen=True)
class Period:
    """A period in a table cell: read as ``text`` (with the partial-period mark), and a date in
    the workbook (the period's first day, in a format that writes it as the text does)."""

    kind: str  # day, week or month
    start: dt.date
    text: str
    partial: bool = False

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class ExcelChart:
    """A native chart in the table's XLSX sheet: ``value_columns`` over ``category_column``."""

    title: str
    kind: Literal["bar", "line"]
    category_column: int
    value_columns: tuple[int, ...]
    axis_title: str = ""


@dataclass
class Table:
    key: str  # short name for the XLSX sheet
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    charts: list[ExcelChart] = field(default_factory=list)
    empty_text: str = ""
    note: str = ""
    # Rows to draw attention to (lagging districts, red indicators), by row index.
    flagged_rows: set[int] = field(default_factory=set)
    # Decimals of the number columns of some rows (indicators in different units), by row index.
    row_digits: dict[int, int] = field(default_factory=dict)
    # Tables behind a chart (trend series) go to the workbook only; the page shows the chart.
    show_in_html: bool = True


@dataclass(frozen=True)
class Figure:
    """A chart for the HTML and PDF (PNG bytes, embedded as a data URI)."""

    title: str
    png: bytes
    alt: str = ""
    small: bool = False  # half the page width, two side by side


@dataclass(frozen=True)
class Headline:
    """A headline figure: the value already formatted for the language, and what it means."""

    value: str
    label: str
    status: str | None = None
    # The same figure typed, for the workbook: a number (with its unit and digits), or a date.
    amount: float | int | dt.date | None = None
    kind: ColumnKind = "text"
    digits: int = 0
    unit: str = ""


@dataclass
class Section:
    title: str
    headlines: list[Headline] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    blocks: list[Table | Figure] = field(default_factory=list)
    # Paragraphs to draw attention to (what the numbers do not include), by index.
    warnings: set[int] = field(default_factory=set)

    def tables(self) -> list[Table]:
        return [block for block in self.blocks if isinstance(block, Table)]


@dataclass
class ReportContent:
    kind: str
    language: str
    title: str
    subtitle: str  # ministry and period, under the title and in the running page header
    period_start: dt.date
    period_end: dt.date
    sections: list[Section]
    scope: str | None = None
    data_status: Section | None = None  # added by render_report from snapshot.json
