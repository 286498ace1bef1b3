"""Delivering simulated files into a system's inbox, as a ministry's export would.

Shared by the sector systems that hand over files (fuel and energy, chemical industry, medicine,
textile). A file is written under a hidden temporary name and renamed into the inbox (the usual
upload-then-rename protocol), with its modification time set to the moment it arrived. The
sender keeps a ledger of what it sent (``delivered.txt`` beside the inbox), so bringing a system
to a later date sends only the files due in between, even after the pipeline has moved the
earlier ones out of the inbox.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEDGER = "delivered.txt"


@dataclass(frozen=True)
class InboxFile:
    """One file the system sends: its name, when it arrives, and how to render its bytes."""

    name: str
    table: str
    arrives_at: dt.datetime
    render: Callable[[], bytes] = field(compare=False, repr=False)


def inbox_of(systems: Path, system: str) -> Path:
    """The demo default inbox of a system: ``<systems>/<system>/inbox``."""
    return systems / system / "inbox"


def deliver(inbox: Path, files: Iterable[InboxFile], as_of: dt.datetime) -> dict[str, int]:
    """Put every file due by ``as_of`` and not yet sent into ``inbox``; files added per table."""
    inbox.mkdir(parents=True, exist_ok=True)
    ledger = inbox.parent / LEDGER
    sent = set(ledger.read_text(encoding="utf-8").split()) if ledger.exists() else set()
    added: Counter[str] = Counter()
    due = sorted(
        (f for f in files if f.arrives_at <= as_of and f.name not in sent),
        key=lambda f: (f.arrives_at, f.name),
    )
    with ledger.open("a", encoding="utf-8") as record:
        for inbox_file in due:
            temporary = inbox / f".{inbox_file.name}.part"
            temporary.write_bytes(inbox_file.render())
            arrived = inbox_file.arrives_at.timestamp()
            os.utime(temporary, (arrived, arrived))
            os.replace(temporary, inbox / inbox_file.name)
            record.write(inbox_file.name + "\n")
            added[inbox_file.table] += 1
    return dict(added)


def csv_bytes(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
    line_end: str = "\r\n",
) -> bytes:
    """A CSV file as an export would write it (``None`` is an empty field)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


@dataclass(frozen=True)
class Header:
    """A column of a form's header; with ``parts``, a merged cell over one column per part."""

    label: str
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Form:
    """A statistical form as a ministry lays it out in a workbook: title rows, a header that
    may span two rows with merged cells, optionally a row of column numbers, the data, a totals
    row and signatures."""

    sheet: str
    title: Sequence[str]
    header: Sequence[Header]
    rows: Sequence[Sequence[Any]]
    column_numbers: bool = False
    merge_down: Sequence[int] = ()  # columns whose repeated values are merged down the rows
    totals: Sequence[int] = ()  # columns summed in a "Jemi" row under the data
    footer: Sequence[str] = ()
    widths: Sequence[float] = ()


CREATED = dt.datetime(2021, 1, 1)  # fixed workbook metadata: same records, same bytes


def xlsx_bytes(forms: Sequence[Form], created: dt.datetime | None = None) -> bytes:
    """A workbook with one sheet per form, written with xlsxwriter."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"created": created or CREATED, "author": "Maglumat simulator"})
    bold = workbook.add_format({"bold": True})
    head = workbook.add_format(
        {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True}
    )
    cell = workbook.add_format({"border": 1})
    number = workbook.add_format({"border": 1, "num_format": "#,##0.0"})
    day = workbook.add_format({"border": 1, "num_format": "dd.mm.yyyy"})
    for form in forms:
        sheet = workbook.add_worksheet(form.sheet)
        width = sum(max(1, len(h.parts)) for h in form.header)
        for index, text in enumerate(form.title):
            if text:
                sheet.merge_range(index, 0, index, width - 1, text, bold)
        top = len(form.title)
        two_rows = any(h.parts for h in form.header)
        column = 0
        for header in form.header:
            if header.parts:
                last = column + len(header.parts) - 1
                sheet.merge_range(top, column, top, last, header.label, head)
                for offset, part in enumerate(header.parts):
                    sheet.write(top + 1, column + offset, part, head)
                column = last + 1
            else:
                if two_rows:
                    sheet.merge_range(top, column, top + 1, column, header.label, head)
                else:
                    sheet.write(top, column, header.label, head)
                column += 1
        row = top + (2 if two_rows else 1)
        if form.column_numbers:
            for index in range(width):
                sheet.write_number(row, index, index + 1, head)
            row += 1
        first = row
        for values in form.rows:
            for index, value in enumerate(values):
                if isinstance(value, dt.date):
                    sheet.write_datetime(row, index, dt.datetime.combine(value, dt.time()), day)
                elif isinstance(value, float):
                    sheet.write_number(row, index, value, number)
                else:
                    sheet.write(row, index, value, cell)
            row += 1
        for index in form.merge_down:
            _merge_runs(sheet, form.rows, first, index, cell)
        if form.totals:
            sheet.write(row, 0, "Jemi", bold)
            for index in form.totals:
                letter = _letter(index)
                total = sum(float(values[index] or 0) for values in form.rows)
                sheet.write_formula(
                    row, index, f"=SUM({letter}{first + 1}:{letter}{row})", number, total
                )
            row += 1
        row += 1
        for text in form.footer:
            sheet.write(row, 0, text)
            row += 1
        for index, size in enumerate(form.widths):
            sheet.set_column(index, index, size)
    workbook.close()
    return buffer.getvalue()


def _merge_runs(
    sheet: Any, rows: Sequence[Sequence[Any]], first: int, index: int, fmt: Any
) -> None:
    """Merge each run of equal values in a column into one cell, as forms group by plant."""
    start = 0
    for end in range(1, len(rows) + 1):
        if end == len(rows) or rows[end][index] != rows[start][index]:
            if end - start > 1:
                sheet.merge_range(
                    first + start, index, first + end - 1, index, rows[start][index], fmt
                )
            start = end


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
