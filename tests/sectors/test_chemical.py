"""Chemical industry (chemical_monthly_form): Türkmenhimiýa's form 1-Ö as XLSX workbooks
through the inbox, the gate and dbt, checked against independent computations over the
simulator's records."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook

from maglumat.settings import MaglumatPaths
from simulator import chemical
from tests.sectors.inbox_support import (
    catalogue_system,
    dbt_build,
    land_and_gate,
    warehouse_rows,
)

AS_OF = chemical.DEFAULT_AS_OF
SYSTEM = chemical.generate()
DELIVERED = SYSTEM.delivered(AS_OF)


def _latest(lines: list[chemical.OutputLine]) -> dict[tuple, chemical.OutputLine]:
    """Latest compiled version of each month, plant and product (plain Python, no SQL)."""
    latest: dict[tuple, chemical.OutputLine] = {}
    for line in sorted(lines, key=lambda line: line.compiled_on):
        latest[(line.report_month, line.enterprise_code, line.product_code)] = line
    return latest


def _delivered_lines() -> list[chemical.OutputLine]:
    return [line for line in SYSTEM.lines if line.file_name in DELIVERED]


def test_generate_is_deterministic_with_the_plants_capacities() -> None:
    assert chemical.generate().lines == SYSTEM.lines
    assert chemical.generate(seed=3).lines != SYSTEM.lines
    totals: dict[str, float] = defaultdict(float)
    for (month, _, product), line in _latest(SYSTEM.lines).items():
        if month.year == 2022:
            totals[product] += line.actual_tonnes
    assert 1.7e6 < totals["KRB"] < 2.2e6  # carbamide of Mary, Tejen and Garabogaz
    assert 400 < totals["YOD"] < 600  # iodine, tonnes
    # The Balkan iodine plant's February 2023 rows never come; November 2022 is six weeks late.
    months = {(line.enterprise_code, line.report_month) for line in SYSTEM.lines}
    assert ("HIM-BLK", dt.date(2023, 2, 1)) not in months
    arrived = {f.name: f.arrives_at for f in SYSTEM.files}
    assert arrived["1-himiya_2022-11.xlsx"].date() == dt.date(2023, 1, 13)


def test_the_workbooks_are_laid_out_as_the_paper_form(maglumat_home: MaglumatPaths) -> None:
    added = chemical.simulate(maglumat_home, dt.datetime(2022, 3, 1, tzinfo=dt.UTC))
    assert added == {"enterprises": 1, "products": 1, "monthly_output": 1}
    path = maglumat_home.systems / chemical.SYSTEM / "inbox" / "1-himiya_2022-01.xlsx"
    workbook = load_workbook(path)
    sheet = workbook["1-Ö himiýa"]
    assert sheet["A3"].value == "Hasabat döwri: 2022-01"
    merged = {str(cell_range) for cell_range in sheet.merged_cells.ranges}
    assert {"G6:H6", "I6:J6", "A6:A7", "B9:B11", "C9:C11"} <= merged  # Mary over 3 products
    assert [sheet.cell(7, column).value for column in range(7, 11)] == [
        "meýilnama",
        "hakyky",
        "içerki bazara",
        "eksporta",
    ]
    assert sheet["A8"].value == 1  # the row of column numbers
    assert any(row[0].value == "Jemi" for row in sheet.iter_rows())
    assert chemical.simulate(maglumat_home, dt.datetime(2022, 3, 1, tzinfo=dt.UTC)) == {}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MaglumatPaths, dict]]:
    """The demo's inbox as of 1 October 2023, landed, gated, loaded and built by dbt."""
    root = tmp_path_factory.mktemp("chemical")
    paths = MaglumatPaths(home=root / "maglumat")
    paths.ensure()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        patch.delenv("MAGLUMAT_CHEMICAL_MONTHLY_FORM_INBOX", raising=False)
        chemical.simulate(paths, AS_OF)
        outcome = land_and_gate(paths, catalogue_system(chemical.SYSTEM))
        dbt_build(paths, "chemical", root)
        yield paths, outcome


@pytest.mark.slow
def test_every_workbook_lands_as_one_batch_and_leaves_the_inbox(loaded: tuple) -> None:
    paths, outcome = loaded
    sent = Counter(f.table for f in SYSTEM.files if f.name in DELIVERED)
    for table, (manifests, gate) in outcome.items():
        assert len(manifests) == sent[table], table
        assert [load.status for load in gate.loads] == ["loaded"] * sent[table], table
    home = paths.systems / chemical.SYSTEM
    assert list((home / "inbox").iterdir()) == []
    assert sorted(path.name for path in (home / "processed").iterdir()) == sorted(DELIVERED)


@pytest.mark.slow
def test_the_raw_rows_are_the_forms_rows(loaded: tuple) -> None:
    paths, _ = loaded
    expected: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for line in _delivered_lines():
        totals = expected[line.product_code]
        totals[0] += 1
        totals[1] += line.actual_tonnes
        totals[2] += line.exported_tonnes
    rows = warehouse_rows(
        paths,
        "select product_code, count(*), sum(actual_tonnes), sum(exported_tonnes)"
        " from raw.chemical_monthly_form__monthly_output group by product_code",
    )
    assert {p: (n, pytest.approx(a), pytest.approx(e)) for p, n, a, e in rows} == {
        p: (n, pytest.approx(a), pytest.approx(e)) for p, (n, a, e) in expected.items()
    }
    # The period and the compilation date come from the title rows of each form.
    versions = sorted(
        {
            ("2023-05", line.compiled_on)
            for line in SYSTEM.lines
            if line.report_month.month == 5 and line.report_month.year == 2023
        }
    )
    assert len(versions) == 2  # the form and its correction
    assert (
        warehouse_rows(
            paths,
            "select distinct report_month, compiled_on"
            " from raw.chemical_monthly_form__monthly_output"
            " where report_month = '2023-05' order by compiled_on",
        )
        == versions
    )


@pytest.mark.slow
def test_the_fact_keeps_the_latest_compiled_form(loaded: tuple) -> None:
    paths, _ = loaded
    expected = {
        (f"chemical_monthly_form:{plant}", f"chemical_monthly_form:{product}", month): (
            line.plan_tonnes,
            line.actual_tonnes,
            line.exported_tonnes,
        )
        for (month, plant, product), line in _latest(_delivered_lines()).items()
    }
    rows = warehouse_rows(
        paths,
        "select enterprise_id, product_id, report_month, cast(plan_tonnes as double),"
        " cast(actual_tonnes as double), cast(exported_tonnes as double)"
        " from marts.fct_chemical_monthly_output",
    )
    assert {(e, p, m): values for e, p, m, *values in rows} == {
        key: list(values) for key, values in expected.items()
    }
    corrected = warehouse_rows(
        paths,
        "select cast(actual_tonnes as double), correction_count"
        " from marts.fct_chemical_monthly_output"
        " where enterprise_id = 'chemical_monthly_form:HIM-TRK'"
        " and product_id = 'chemical_monthly_form:SPF' and report_month = '2023-05-01'",
    )
    original = next(
        line.actual_tonnes
        for line in SYSTEM.lines
        if line.file_name == "1-himiya_2023-05.xlsx"
        and (line.enterprise_code, line.product_code) == ("HIM-TRK", "SPF")
    )
    assert corrected == [(pytest.approx(round(original * 0.9, 1)), 1)]
    assert warehouse_rows(
        paths,
        "select count(*) from marts.fct_chemical_monthly_output"
        " where enterprise_id = 'chemical_monthly_form:HIM-BLK' and report_month = '2023-02-01'",
    ) == [(0,)]
