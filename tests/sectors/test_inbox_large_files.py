"""Large inbox files, read in slices so that memory follows the slice and not the file.

A slice is set to a few kilobytes here, so that an ordinary file is cut into many slices: the
rows, columns, messages and content digest must be exactly those of reading the file whole.
The 2 GB file itself is a benchmark (``bench/large_inbox.py``), with its peak memory printed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest

from maglumat.catalogue import SourceSystem
from maglumat.settings import MaglumatPaths
from pipelines.extract import file_inbox, inbox_streaming
from pipelines.extract.file_inbox import InboxOptions, UnreadableFileError
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.landing import list_batches, read_batch
from quality.gate import READ_PROBLEM_COLUMN
from tests.sectors.inbox_support import FUEL, drop_file, inbox_of, processed_files, warehouse_rows

SLICE = 4096


def _options(fuel: SourceSystem, **changes: object) -> InboxOptions:
    options = InboxOptions.of(fuel, fuel.table("daily_production"))
    return dataclasses.replace(
        options, stream_above_bytes=SLICE, stream_slice_bytes=SLICE, **changes
    )


def _new_export(enterprises: int = 5, bom: bool = True) -> bytes:
    """The new system's export (UTF-8, `,`): a day's gas of ``enterprises`` fields, every day
    of 2023's twelve 28-day stretches."""
    header = "Sene,Kärhananyň kody,Önümiň kody,Mukdary,Iberilen wagty\n"
    codes = [f"TGZ-{chr(65 + n // 26)}{chr(65 + n % 26)}K" for n in range(enterprises)]
    lines = [
        f"2023-{month:02d}-{day:02d},{code},GAZ,{1000 + day * 3.5 + month},"
        f"2023-{month:02d}-{day:02d} 08:20:00+05:00\n"
        for month in range(1, 13)
        for day in range(1, 29)
        for code in codes
    ]
    return ("\ufeff" if bom else "").encode("utf-8") + (header + "".join(lines)).encode("utf-8")


def _old_export() -> bytes:
    """Windows-1251, `;`, decimal commas, a title line above the header, quoted fields with a
    `;` and a line end inside them (so the csv module reads it, slice by slice), a point
    where a decimal comma belongs, and blank lines."""
    lines = [
        "Суточная сводка ТЭК;;;;\r\n",
        "Дата;Код предприятия;Код продукции;Количество;Время передачи\r\n",
    ]
    for day in range(1, 29):
        for month in range(1, 13):
            quantity = f"{day * 1000 + month},5" if (day + month) % 7 else f'"{day} 345,2"'
            lines.extend(
                f"{day:02d}.{month:02d}.2022;TGZ-{code};GAZ;{quantity};"
                f"{day:02d}.{month:02d}.2022 08:15\r\n"
                for code in ("GLK", "DWL", "YLT", "SMN")
            )
        if day == 9:
            lines.append(';;"сводка;\r\nисправлена";;\r\n')
        if day == 17:
            lines.append("\r\n\r\n")
            lines.append("17.12.2022;ENR-MRY;ELK;5479.5;18.12.2022 08:15\r\n")
    return "".join(lines).encode("cp1251")


def _staged_frame(path: Path, options: InboxOptions, staging: Path) -> tuple[pl.DataFrame, str]:
    found = inbox_streaming.survey(path, options)
    staged, digest = inbox_streaming.read_in_slices(path, options, found, staging)
    assert staged.row_count == pl.read_parquet(staged.path).height
    return pl.read_parquet(staged.path), digest


@pytest.mark.parametrize("kind", ["new export, column-wise", "old export, quoted, cp1251"])
def test_a_file_read_in_slices_gives_the_rows_and_digest_of_reading_it_whole(
    tmp_path: Path, fuel: SourceSystem, kind: str
) -> None:
    data = _new_export() if kind.startswith("new") else _old_export()
    options = _options(fuel, title_rows=0 if kind.startswith("new") else 1)
    path = tmp_path / "fek_arhiw_2023.csv"
    path.write_bytes(data)
    assert len(data) > 10 * SLICE  # many slices

    whole = file_inbox.read_table_file(path, options)
    sliced, digest = _staged_frame(path, options, tmp_path / "staging")

    assert sliced.equals(whole)
    assert digest == file_inbox._content_digest(whole)
    if kind.startswith("old"):
        # the survey saw the decimal commas of the whole file; the point is a read problem
        assert sliced.filter(pl.col(READ_PROBLEM_COLUMN).is_not_null()).height == 1
        assert "14345.2" in sliced["quantity"].to_list()  # a quoted "14 345,2"


def test_a_bad_line_deep_in_a_large_file_is_named_by_its_line_in_the_file(
    tmp_path: Path, fuel: SourceSystem
) -> None:
    data = bytearray(_new_export(bom=False))
    lines = data.split(b"\n")
    lines[1500] += b",an extra field"
    path = tmp_path / "fek_arhiw_2023.csv"
    path.write_bytes(b"\n".join(lines))
    options = _options(fuel)

    with pytest.raises(UnreadableFileError) as whole:
        file_inbox.read_table_file(path, options)
    with pytest.raises(UnreadableFileError) as sliced:
        _staged_frame(path, options, tmp_path / "staging")

    assert "line 1501 has 6 fields where the header has 5" in str(whole.value)
    assert str(sliced.value) == str(whole.value)


def test_a_large_file_mixing_encodings_is_refused_naming_both_lines(
    tmp_path: Path, fuel: SourceSystem
) -> None:
    lines = _new_export(bom=False).split(b"\n")
    lines[1200] = lines[1200].replace(b"GAZ", "Gökdepe".encode("cp1250"))
    path = tmp_path / "fek_arhiw_2023.csv"
    path.write_bytes(b"\n".join(lines))
    options = _options(fuel)

    with pytest.raises(UnreadableFileError) as whole:
        file_inbox.read_table_file(path, options)
    found = inbox_streaming.survey(path, options)

    assert found.problem == str(whole.value)
    assert "line 1 is UTF-8 but line 1201 is not" in found.problem


def test_a_quote_never_closed_is_an_error_not_the_whole_file_in_memory(
    tmp_path: Path, fuel: SourceSystem
) -> None:
    lines = _new_export(bom=False).split(b"\n")
    lines[40] = lines[40].replace(b"GAZ", b'"GAZ')
    path = tmp_path / "fek_arhiw_2023.csv"
    path.write_bytes(b"\n".join(lines))

    with pytest.raises(UnreadableFileError, match="quoted field opened at or after line"):
        _staged_frame(path, _options(fuel), tmp_path / "staging")


@pytest.mark.parametrize("gate_slice_rows", [1000, 10**9], ids=["in slices", "whole"])
def test_a_large_file_lands_gates_and_loads_in_slices_like_a_small_one(
    maglumat_home: MaglumatPaths,
    fuel: SourceSystem,
    monkeypatch: pytest.MonkeyPatch,
    gate_slice_rows: int,
) -> None:
    """The whole way: staged and landed by the extractor, gated and loaded slice by slice (or
    whole, for the same verdict), with a duplicate key in two different slices and a bad value
    quarantined by the file's row."""
    data = _new_export(enterprises=25, bom=False).decode("utf-8").split("\n")
    data[7000] = data[10]  # the same day, enterprise, product and transmission as row 10
    data[5000] = data[5000].replace("GAZ", "GAS")
    fuel = dataclasses.replace(
        fuel,
        options={**fuel.options, "stream_above_bytes": SLICE, "stream_slice_bytes": SLICE},
    )
    drop_file(inbox_of(maglumat_home, FUEL), "fek_arhiw_2023.csv", "\n".join(data).encode())
    debris = maglumat_home.landing / FUEL / "daily_production" / ".staging" / "a run that died"
    debris.mkdir(parents=True)
    monkeypatch.setattr("pipelines.ingest.GATE_SLICE_ROWS", gate_slice_rows)
    table = fuel.table("daily_production")

    outcome = extract_to_landing(maglumat_home, fuel, table)
    gated = gate_and_load(maglumat_home, fuel, table)

    (manifest,) = outcome.manifests
    assert manifest.row_count == len(data) - 2  # header and the final empty line
    assert processed_files(maglumat_home, FUEL) == ["fek_arhiw_2023.csv"]
    assert not any(debris.parent.iterdir()), "slices staged by a run that died are removed"
    (load,) = gated.loads
    quarantined = warehouse_rows(
        maglumat_home,
        "select row_number, rule, field, value from audit.quarantine order by row_number, rule",
    )
    assert quarantined == [
        (
            10,
            "expect_compound_columns_to_be_unique",
            "report_date,enterprise_code,product_code,transmitted_at",
            data[10].split(",")[0],
        ),
        (5000, "expect_column_values_to_be_in_set", "product_code", "GAS"),
        (
            7000,
            "expect_compound_columns_to_be_unique",
            "report_date,enterprise_code,product_code,transmitted_at",
            data[10].split(",")[0],
        ),
    ]
    assert (load.extracted_rows, load.loaded_rows, load.quarantined_rows) == (
        manifest.row_count,
        manifest.row_count - 3,
        3,
    )
    (loaded,) = warehouse_rows(
        maglumat_home,
        'select count(*) from raw."fuel_energy_production__daily_production"',
    )
    assert loaded == (manifest.row_count - 3,)
    landed = read_batch(maglumat_home.landing, list_batches(maglumat_home.landing)[0])
    assert landed.height == manifest.row_count
