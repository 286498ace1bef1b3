"""Helpers the sector tests share: a catalogue system, files dropped into an inbox as a sender
would (and the chemical industry's form as it sends it), landing and gating a system, reading the
warehouse, a sector's dbt build."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import xlsxwriter

from maglumat.catalogue import SourceSystem, load_catalogue
from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths
from pipelines.ingest import GateOutcome, extract_to_landing, gate_and_load
from pipelines.landing import BatchManifest

FUEL = "fuel_energy_production"
CHEMICAL = "chemical_monthly_form"
LONG_AGO = dt.datetime(2023, 9, 20, 4, 0, tzinfo=dt.UTC)

OLD_EXPORT = (
    "Дата;Код предприятия;Код продукции;Количество;Время передачи\r\n"
    "01.01.2022;TGZ-GLK;GAZ;82 145,3;02.01.2022 08:15\r\n"
    "01.01.2022;ENR-MRY;ELK;30\u00a0012,0;02.01.2022 08:15\r\n"
    "01.01.2022;TNB-GTD;NBT;5479,5;02.01.2022 08:15\r\n"
).encode("cp1251")
NEW_EXPORT_WITH_BOM = (
    "\ufeffSene,Kärhananyň kody,Önümiň kody,Mukdary,Iberilen wagty\n"
    "2023-09-12,TGZ-GLK,GAZ,81234.5,2023-09-13 08:20:00+05:00\n"
    "2023-09-12,ENR-MRY,ELK,29876.1,2023-09-13 08:20:00+05:00\n"
).encode("utf-8")


def chemical_form(
    period: str = "Hasabat döwri: 2023-09", sheet: str = "1-Ö himiýa", rows: int = 3
) -> bytes:
    """Form 1-Ö as Türkmenhimiýa lays it out: five title rows, a two-row header with merged
    cells, a row of column numbers, a plant merged over its products, totals and signatures."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet_ = workbook.add_worksheet(sheet)
    sheet_.merge_range("A1:J1", "«Türkmenhimiýa» döwlet konserni")
    sheet_.merge_range("A2:J2", "Himiýa önümleriniň önümçiligi barada aýlyk hasabat (1-Ö)")
    sheet_.merge_range("A3:J3", period)
    sheet_.merge_range("A4:J4", "Düzülen senesi: 04.10.2023")
    for column, label in enumerate(
        ["T/b", "Kärhananyň kody", "Kärhananyň ady", "Önümiň kody", "Önümiň ady", "Ölçeg birligi"]
    ):
        sheet_.merge_range(5, column, 6, column, label)
    sheet_.merge_range("G6:H6", "Önümçilik, tonna")
    sheet_.write_row("G7", ["meýilnama", "hakyky"])
    sheet_.merge_range("I6:J6", "Ýerlenildi, tonna")
    sheet_.write_row("I7", ["içerki bazara", "eksporta"])
    sheet_.write_row("A8", list(range(1, 11)))
    data = [
        [
            1,
            "HIM-MRY",
            "Mary azot dökünleri zawody",
            "KRB",
            "Karbamid",
            "tonna",
            49100.0,
            51234.5,
            15000.0,
            36000.25,
        ],
        [
            2,
            "HIM-MRY",
            "Mary azot dökünleri zawody",
            "AMM",
            "Suwuk ammiak",
            "tonna",
            3500.0,
            3320.0,
            2650.0,
            670.0,
        ],
        [3, "HIM-HZR", "Hazar himiýa zawody", "YOD", "Ýod", "tonna", 19.2, 20.125, 1.0, 19.0],
    ][:rows]
    for index, row in enumerate(data):
        sheet_.write_row(8 + index, 0, row)
    if rows >= 2:  # the plant's code and name merged over its two products
        sheet_.merge_range(8, 1, 9, 1, "HIM-MRY")
        sheet_.merge_range(8, 2, 9, 2, "Mary azot dökünleri zawody")
    sheet_.write_row(8 + len(data), 0, ["Jemi", None, None, None, None, None, 52619.2])
    sheet_.write(10 + len(data), 0, "Baş inžener: ____________")
    workbook.close()
    return buffer.getvalue()


def catalogue_system(name: str) -> SourceSystem:
    return next(system for system in load_catalogue() if system.name == name)


def drop_file(inbox: Path, name: str, data: bytes, arrived: dt.datetime | None = LONG_AGO) -> Path:
    """Put a file into the inbox as a sender would, arrived at ``arrived`` (its mtime); None
    leaves the mtime the file system gave it: written just now."""
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_bytes(data)
    if arrived is not None:
        os.utime(path, (arrived.timestamp(), arrived.timestamp()))
    return path


def land_and_gate(
    paths: MaglumatPaths, system: SourceSystem
) -> dict[str, tuple[list[BatchManifest], GateOutcome]]:
    """Extract every table of ``system`` to the landing zone, then gate and load it."""
    outcome = {}
    for table in system.tables:
        extracted = extract_to_landing(paths, system, table)
        outcome[table.name] = (extracted.manifests, gate_and_load(paths, system, table))
    return outcome


def warehouse_rows(paths: MaglumatPaths, sql: str, parameters: list | None = None) -> list[tuple]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return connection.execute(sql, parameters or []).fetchall()
    finally:
        connection.close()


def dbt_build(paths: MaglumatPaths, sector: str, target: Path) -> str:
    """A real dbt build of the sector's staging and marts (and the seeds they test against)."""
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "build",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target / "target"),
        "--log-path",
        str(target / "logs"),
        "--indirect-selection",
        "cautious",
        "--select",
        "ref_provinces",
        "ref_districts",
        f"path:models/staging/{sector}",
        f"path:models/marts/{sector}",
    ]
    result = subprocess.run(
        command,
        env={**os.environ, "MAGLUMAT_HOME": str(paths.home)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout


def inbox_of(paths: MaglumatPaths, system: str) -> Path:
    return paths.systems / system / "inbox"


def processed_files(paths: MaglumatPaths, system: str) -> list[str]:
    folder = paths.systems / system / "processed"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def rejected_reasons(paths: MaglumatPaths, system: str) -> dict[str, str]:
    folder = paths.systems / system / "rejected"
    if not folder.exists():
        return {}
    return {
        path.name: (folder / f"{path.name}.reason.txt").read_text(encoding="utf-8")
        for path in folder.iterdir()
        if not path.name.endswith(".reason.txt")
    }
