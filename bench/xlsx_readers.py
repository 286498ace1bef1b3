"""XLSX inbox files read four ways: Maglumat's reader against the libraries that could replace it.

Writes the health ministry's two monthly forms at 1,000, 10,000 and 100,000 data rows, each
with five title rows and a two-row header with merged cells:

* ``facility``: the facility report (``saglyk_hasabat_*.xlsx``: dates, totals and a signature
  under the table), written with openpyxl, which stores every text in its cell;
* ``stock``: the medicine stock report (``derman_galyndy_*.xlsx``: each facility merged down
  over its twelve medicines), written by the simulator's writer (xlsxwriter), which keeps the
  texts in a shared string table as Excel does.

Each file is read by each reader in a process of its own, so that its peak memory
(``ru_maxrss``) is its own; the best of ``--repeat`` reads is timed:

* ``maglumat``: ``pipelines.extract.file_inbox.xlsx.read_xlsx``, openpyxl's read-only mode for
  the values and the sheet's XML for the merged ranges;
* ``openpyxl``: openpyxl's full mode, which gives the merged ranges itself;
* ``calamine``: python-calamine, values and merged ranges;
* ``fastexcel``: fastexcel (calamine into Arrow) for the values, as text, which has no merged
  ranges: Maglumat's XML pass gives them.

Every reader's values go through Maglumat's ``xlsx_text`` and merged cells are filled the same
way, so each reader's sheet (every cell, title and header included) and merged ranges are
compared with Maglumat's; the table read from a sheet depends on nothing else. Then each
reader meets files an inbox receives: a truncated workbook, a text file named ``.xlsx``, a
sheet whose recorded dimension is wrong, and a stray value in the sheet's last cell (XFD1048576),
with the address space limited to ``--limit-gb`` and ``--timeout`` seconds. Last, one cell of
each kind whose text the readers could give differently (an error value, a long number, ...)::

    python -m bench.xlsx_readers --rows 1000 10000 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.xlsx_workbooks import EDGE_CELLS, LAYOUTS, WRITERS, Grid, hostile_files, write_edge_cells

READERS = ("maglumat", "openpyxl", "calamine", "fastexcel")


def read_maglumat(path: Path, sheet_name: str) -> Grid:
    from pipelines.extract.file_inbox.options import InboxOptions
    from pipelines.extract.file_inbox.xlsx import read_xlsx

    sheet = read_xlsx(path, path.name, InboxOptions(patterns=("*",), sheet=sheet_name))
    return sheet.rows, sheet.merged


def _filled(rows: list[list[str | None]], merged: list[tuple[int, int, int, int]]) -> Grid:
    from pipelines.extract.file_inbox.sheet import Sheet
    from pipelines.extract.file_inbox.xlsx import fill_merged

    sheet = Sheet(rows=rows, row_label="row", merged=merged)
    fill_merged(sheet)
    return sheet.rows, sheet.merged


def read_openpyxl(path: Path, sheet_name: str) -> Grid:
    from openpyxl import load_workbook

    from pipelines.extract.file_inbox.xlsx import xlsx_text

    workbook = load_workbook(path, data_only=True)
    try:
        sheet = workbook[sheet_name]
        rows = [[xlsx_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
        merged = [
            (cells.min_row - 1, cells.min_col - 1, cells.max_row - 1, cells.max_col - 1)
            for cells in sheet.merged_cells.ranges
        ]
    finally:
        workbook.close()
    return _filled(rows, merged)


def read_calamine(path: Path, sheet_name: str) -> Grid:
    from python_calamine import CalamineWorkbook

    from pipelines.extract.file_inbox.xlsx import xlsx_text

    workbook = CalamineWorkbook.from_path(str(path))
    try:
        sheet = workbook.get_sheet_by_name(sheet_name)
        rows = [
            [None if value == "" else xlsx_text(value) for value in row]
            for row in sheet.to_python(skip_empty_area=False)
        ]
        merged = [
            (top, left, bottom, right)
            for (top, left), (bottom, right) in sheet.merged_cell_ranges or []
        ]
    finally:
        workbook.close()
    return _filled(rows, merged)


def read_fastexcel(path: Path, sheet_name: str) -> Grid:
    import fastexcel

    from pipelines.extract.file_inbox.xlsx import merged_ranges, xlsx_text

    sheet = fastexcel.read_excel(path).load_sheet(sheet_name, header_row=None, dtypes="string")
    frame = sheet.to_polars()
    rows = [[xlsx_text(value) for value in row] for row in frame.iter_rows()]
    return _filled(rows, merged_ranges(path, sheet_name))


READ: dict[str, Callable[[Path, str], Grid]] = {
    "maglumat": read_maglumat,
    "openpyxl": read_openpyxl,
    "calamine": read_calamine,
    "fastexcel": read_fastexcel,
}


LIBRARIES = {
    "maglumat": "openpyxl",
    "openpyxl": "openpyxl",
    "calamine": "python_calamine",
    "fastexcel": "fastexcel",
}


def _resident_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def child(reader: str, path: Path, sheet_name: str, repeat: int, grid_out: Path | None) -> None:
    """Read the file ``repeat`` times; print the figures as JSON, save the sheet if asked."""
    # Imported first: the memory at the start includes the modules, the peak is the reading's.
    importlib.import_module("pipelines.extract.file_inbox.xlsx")
    importlib.import_module(LIBRARIES[reader])
    before = _resident_bytes()
    best, grid = float("inf"), None
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            grid = READ[reader](path, sheet_name)
            best = min(best, time.perf_counter() - started)
    except Exception as error:  # a hostile file: what the reader raises is the finding
        message = (str(error).strip().splitlines() or [""])[0][:120]
        print(json.dumps({"error": f"{type(error).__name__}: {message}"}))
        return
    assert grid is not None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rows, merged = grid
    trimmed = [_trim(row) for row in rows]
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    if grid_out is not None:
        grid_out.write_text(json.dumps({"rows": trimmed, "merged": sorted(merged)}))
    digest = hashlib.sha256(json.dumps([trimmed, sorted(merged)]).encode()).hexdigest()
    figures = {"seconds": best, "before": before, "peak": peak, "rows": len(trimmed)}
    print(json.dumps({**figures, "digest": digest}))


def _trim(row: list[str | None]) -> list[str | None]:
    """A row without the empty cells after its last value (readers pad rows differently)."""
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return list(row[:end])


def run_child(
    reader: str,
    path: Path,
    sheet_name: str,
    repeat: int,
    grid_out: Path | None,
    limit_gb: float,
    timeout: float,
) -> dict[str, Any]:
    """One reading in a process of its own, its address space limited."""
    limit = int(limit_gb * (1 << 30))

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    command = [
        sys.executable,
        "-m",
        "bench.xlsx_readers",
        "--child",
        reader,
        str(path),
        sheet_name,
        "--repeat",
        str(repeat),
    ]
    if grid_out is not None:
        command += ["--grid-out", str(grid_out)]
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=limited,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        first = (completed.stderr.strip().splitlines() or ["?"])[0][:90]
        how = (
            f"killed by signal {-completed.returncode}"
            if completed.returncode < 0
            else f"exit {completed.returncode}"
        )
        return {"error": f"process {how} after {elapsed:.1f} s: {first}"}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def first_difference(reference: Path, other: Path) -> str:
    """Where another reader's sheet first differs from Maglumat's."""
    ours, theirs = json.loads(reference.read_text()), json.loads(other.read_text())
    if ours["merged"] != theirs["merged"]:
        return f"merged ranges differ ({len(ours['merged'])} against {len(theirs['merged'])})"
    for index, (mine, yours) in enumerate(zip(ours["rows"], theirs["rows"], strict=False)):
        for column in range(max(len(mine), len(yours))):
            a = mine[column] if column < len(mine) else None
            b = yours[column] if column < len(yours) else None
            if a != b:
                return f"row {index + 1} column {column + 1}: {a!r} against {b!r}"
    return f"{len(ours['rows'])} rows against {len(theirs['rows'])}"


# --- hostile files ----------------------------------------------------------------------------


def compare_edge_cells(path: Path, readers: list[str]) -> None:
    """Print each kind of cell as each reader gives it, where they do not agree."""
    write_edge_cells(path)
    texts = {reader: READ[reader](path, "Cells")[0] for reader in readers}
    for index, what in enumerate(EDGE_CELLS):
        values = {
            reader: rows[index][0] if index < len(rows) and rows[index] else None
            for reader, rows in texts.items()
        }
        agreed = len(set(values.values())) == 1
        shown = "; ".join(f"{reader} {value!r}" for reader, value in values.items())
        print(f"  {what:<52} {'same' if agreed else 'DIFFER'}: {shown}")


# --- the run ----------------------------------------------------------------------------------


def _load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for package in ("openpyxl", "python-calamine", "fastexcel"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            found.append(f"{package} not installed")
    return ", ".join(found)


def compare_readers(
    path: Path, sheet_name: str, readers: list[str], arguments: argparse.Namespace
) -> str | None:
    """Print each reader's line for one file; Maglumat's digest of the sheet, if it read it."""
    size = path.stat().st_size / 1e6
    label = path.stem.replace("_", " ")
    reference: dict[str, Any] = {}
    for reader in readers:
        grid_out = path.with_suffix(f".{reader}.json")
        figures = run_child(
            reader,
            path,
            sheet_name,
            arguments.repeat,
            grid_out,
            arguments.limit_gb,
            arguments.timeout,
        )
        if "error" in figures:
            print(f"{label:<16} {size:>5.1f} {reader:<10} {figures['error']}", flush=True)
            continue
        read_bytes = max(0, figures["peak"] - figures["before"])
        if reader == "maglumat":
            reference = {**figures, "read": read_bytes, "grid": grid_out}
        same, time_ratio, memory_ratio = "(no reference)", "", ""
        if reference:
            same = (
                "yes"
                if figures["digest"] == reference["digest"]
                else "NO: " + first_difference(reference["grid"], grid_out)
            )
            time_ratio = f"{figures['seconds'] / reference['seconds']:.2f}"
            memory_ratio = f"{read_bytes / max(reference['read'], 1):.2f}"
        print(
            f"{label:<16} {size:>5.1f} {reader:<10} {figures['seconds']:>8.3f}"
            f" {time_ratio:>6} {figures['peak'] / 1e6:>8.0f} {read_bytes / 1e6:>8.0f}"
            f" {memory_ratio:>6}  {same}",
            flush=True,
        )
    for reader in readers:
        path.with_suffix(f".{reader}.json").unlink(missing_ok=True)
    return reference.get("digest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=3, help="reads timed, the best counts")
    parser.add_argument("--readers", nargs="+", choices=READERS, default=list(READERS))
    parser.add_argument("--limit-gb", type=float, default=4.0, help="address space of a reader")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for one reader")
    parser.add_argument("--scratch", type=Path, default=None, help="where files are written")
    parser.add_argument(
        "--child", nargs=3, metavar=("READER", "PATH", "SHEET"), help=argparse.SUPPRESS
    )
    parser.add_argument("--grid-out", type=Path, default=None, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        reader, path, sheet_name = arguments.child
        child(reader, Path(path), sheet_name, arguments.repeat, arguments.grid_out)
        return
    readers = [reader for reader in READERS if reader in arguments.readers]
    missing = [reader for reader in readers if importlib.util.find_spec(LIBRARIES[reader]) is None]
    if missing:
        # Not dependencies of Maglumat: pip install python-calamine fastexcel to measure them.
        print(f"not installed, left out: {', '.join(missing)}")
        readers = [reader for reader in readers if reader not in missing]
    scratch = Path(tempfile.mkdtemp(prefix="maglumat-xlsx-readers-", dir=arguments.scratch))
    print(
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores,"
        f" {_versions()}; load average at the start {_load_average()}"
    )
    print(
        f"{'file':<16} {'MB':>5} {'reader':<10} {'seconds':>8} {'x':>6} {'peak MB':>8}"
        f" {'read MB':>8} {'x':>6}  same sheet as maglumat"
    )
    smallest: dict[str, Path] = {}
    digests: dict[Path, str | None] = {}
    for rows in sorted(arguments.rows):
        for layout, sheet_name in LAYOUTS.items():
            path = scratch / f"{layout}_{rows // 1000}k.xlsx"
            WRITERS[layout](path, rows)
            smallest.setdefault(layout, path)
            digests[path] = compare_readers(path, sheet_name, readers, arguments)
    print()
    print(
        f"hostile files, made from the {min(arguments.rows):,}-row ones (address space"
        f" {arguments.limit_gb:g} GB, {arguments.timeout:.0f} s):"
    )
    sheets = {path: LAYOUTS[layout] for layout, path in smallest.items()}
    for what, path, intact in hostile_files(scratch, smallest["facility"], smallest["stock"]):
        for reader in readers:
            figures = run_child(
                reader, path, sheets[intact], 1, None, arguments.limit_gb, arguments.timeout
            )
            if "error" in figures:
                outcome = figures["error"]
            else:
                same = (
                    "the intact file's sheet" if figures["digest"] == digests[intact] else "other"
                )
                outcome = (
                    f"{figures['rows']:,} rows ({same}) in {figures['seconds']:.2f} s,"
                    f" peak {figures['peak'] / 1e6:.0f} MB"
                )
            print(f"  {what:<38} {reader:<10} {outcome}", flush=True)
    print()
    print("cells that read differently (a workbook written as Excel writes it, by xlsxwriter):")
    compare_edge_cells(scratch / "edge_cells.xlsx", readers)
    print(f"load average at the end {_load_average()}")


if __name__ == "__main__":
    main()
