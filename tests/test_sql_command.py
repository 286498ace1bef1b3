"""``maglumat sql``: a table on the terminal, or CSV, XLSX or Parquet by the file's extension;
bad SQL is a one-line error and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from maglumat.settings import PROJECT_ROOT, MaglumatPaths
from pipelines.cli import main
from warehouse.client import Warehouse

# Text in three scripts, dates, doubles and integers: what an export must carry intact.
QUERY = """
    select progress.report_date, progress.region_id, regions.name_tk, regions.name_ru,
        progress.cumulative_amount, progress.progress_pct, progress.days_remaining
    from indicators.ind_campaign_progress as progress
    inner join marts.dim_regions as regions on progress.region_id = regions.region_id
    where progress.campaign_id = 'cotton_harvest_2023' and progress.region_level = 'province'
    order by progress.report_date desc, progress.region_id
    limit 40
"""


def _read_back(path: Path) -> pl.DataFrame:
    if path.suffix == ".csv":
        return pl.read_csv(path, try_parse_dates=True)
    if path.suffix == ".xlsx":
        return pl.read_excel(path, engine="openpyxl", sheet_name="result")
    return pl.read_parquet(path)


@pytest.fixture
def spine_home(spine_run: MaglumatPaths, monkeypatch: pytest.MonkeyPatch) -> MaglumatPaths:
    monkeypatch.setenv("MAGLUMAT_HOME", str(spine_run.home))
    return spine_run


@pytest.mark.parametrize(
    ("option", "suffix"),
    [("--output", ".csv"), ("--output", ".xlsx"), ("--output", ".parquet"), ("--csv", ".csv")],
)
def test_the_result_is_written_in_the_format_of_the_extension(
    spine_home: MaglumatPaths,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    suffix: str,
    option: str,
) -> None:
    with Warehouse(spine_home.home) as warehouse:
        expected = warehouse.sql(QUERY)
    assert expected.height == 40
    target = tmp_path / "exports" / f"progress{suffix}"

    assert main(["sql", QUERY, option, str(target)]) == 0

    assert capsys.readouterr().out.strip() == f"40 rows written to {target}"
    written = _read_back(target)
    assert written.columns == expected.columns
    # CSV and XLSX carry no types: dates and numbers are compared once read back as such
    assert_frame_equal(written, expected, check_dtypes=suffix == ".parquet", abs_tol=1e-9)


def test_the_result_is_printed_as_a_table(
    spine_home: MaglumatPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "select region_id, name_tk from marts.dim_regions order by 1"]) == 0
    output = capsys.readouterr().out
    assert "region_id" in output
    assert "Akbugdaý" in output


def test_as_of_reads_the_snapshot_in_force_then(
    spine_home: MaglumatPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    query = "select count(*) as regions from marts.dim_regions"
    assert main(["sql", query, "--as-of", "2999-12-31"]) == 0
    captured = capsys.readouterr()
    assert "[sql] snapshot " in captured.err
    assert main(["sql", query, "--as-of", "2000-01-01"]) == 2
    assert "no snapshot was in force at 2000-01-02T00:00:00+05:00" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("selec 1", 'maglumat sql: Parser Error: syntax error at or near "selec"'),
        ("select * from marts.no_such_mart", "maglumat sql: Catalog Error: Table with name"),
        ("create table marts.mine as select 1", "read-only mode"),
        ("copy marts.dim_regions to '/tmp/regions.csv'", "Permission Error"),
    ],
)
def test_bad_sql_is_one_line_and_exit_code_2(
    spine_home: MaglumatPaths, query: str, message: str
) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sql", query],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    error_lines = completed.stderr.strip().splitlines()
    assert len(error_lines) == 1, completed.stderr
    assert message in error_lines[0]
    assert "Traceback" not in completed.stderr


def test_an_unknown_output_format_is_refused(
    spine_home: MaglumatPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "regions.json"
    assert main(["sql", "select 1 as one", "--output", str(target)]) == 2
    assert "must end in .csv, .xlsx, .parquet" in capsys.readouterr().err
    assert not target.exists()
