"""Textile industry (textile_mill_output): the ministry's monthly CSV files through the inbox,
and the same records read from MariaDB with the ``sql`` kind; both through the gate and dbt,
checked against independent computations over the simulator's records."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from maglumat.catalogue import SourceSystem
from maglumat.settings import MaglumatPaths
from pipelines.ingest import extract_to_landing
from pipelines.landing import list_batches
from simulator import textile
from tests.sectors.inbox_support import (
    catalogue_system,
    dbt_build,
    land_and_gate,
    warehouse_rows,
)

AS_OF = textile.DEFAULT_AS_OF
SYSTEM = textile.generate()
DELIVERED = SYSTEM.delivered(AS_OF)
DATABASE_ENV = "MAGLUMAT_TEST_TEXTILE_DATABASE_DSN"


def _latest(rows: list[textile.MillOutput]) -> dict[tuple[str, str, str], textile.MillOutput]:
    """Latest submission of each month, mill and product (plain Python, no SQL)."""
    latest: dict[tuple[str, str, str], textile.MillOutput] = {}
    for row in sorted(rows, key=lambda row: row.submitted_at):
        latest[(row.report_month, row.mill_code, row.product_code)] = row
    return latest


def _expected_totals(rows: list[textile.MillOutput]) -> dict[str, tuple[int, float, float]]:
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for row in rows:
        total = totals[row.product_code]
        total[0] += 1
        total[1] += row.produced_quantity
        total[2] += row.export_value_tmt
    return {
        product: (int(n), pytest.approx(q), pytest.approx(v))
        for product, (n, q, v) in totals.items()
    }


def _raw_totals(paths: MaglumatPaths) -> dict[str, tuple]:
    rows = warehouse_rows(
        paths,
        "select product_code, count(*), sum(produced_quantity), sum(export_value_tmt)"
        " from raw.textile_mill_output__mill_output group by product_code",
    )
    return {product: (count, produced, value) for product, count, produced, value in rows}


def _fact(paths: MaglumatPaths) -> dict[tuple[str, str, dt.date], float]:
    rows = warehouse_rows(
        paths,
        "select enterprise_id, product_id, report_month, cast(produced_quantity as double)"
        " from marts.fct_textile_mill_monthly_output",
    )
    return {(mill, product, month): produced for mill, product, month, produced in rows}


def _expected_fact(rows: list[textile.MillOutput]) -> dict[tuple[str, str, dt.date], float]:
    return {
        (
            f"textile_mill_output:{mill}",
            f"textile_mill_output:{product}",
            dt.date.fromisoformat(f"{month}-01"),
        ): row.produced_quantity
        for (month, mill, product), row in _latest(rows).items()
    }


def test_generate_is_deterministic_with_plausible_output() -> None:
    assert textile.generate().output == SYSTEM.output
    assert textile.generate(seed=5).output != SYSTEM.output
    yarn_2022 = sum(
        row.produced_quantity
        for (month, _, product), row in _latest(SYSTEM.output).items()
        if month.startswith("2022") and product == "PGY"
    )
    assert 80_000 < yarn_2022 < 110_000  # tonnes of cotton yarn a year
    # Kaka's June 2022 rows never come; the correction file holds only the corrected rows.
    assert not [r for r in SYSTEM.output if (r.mill_code, r.report_month) == ("TX-KKA", "2022-06")]
    assert {r.mill_code for r in SYSTEM.output_files["dokma_2023-06_v2.csv"]} == {"TX-ASG"}


# --- through the inbox ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MaglumatPaths, dict]]:
    """The demo's inbox as of 1 October 2023, landed, gated, loaded and built by dbt."""
    root = tmp_path_factory.mktemp("textile")
    paths = MaglumatPaths(home=root / "maglumat")
    paths.ensure()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        patch.delenv("MAGLUMAT_TEXTILE_MILL_OUTPUT_INBOX", raising=False)
        textile.simulate(paths, AS_OF)
        outcome = land_and_gate(paths, catalogue_system(textile.SYSTEM))
        dbt_build(paths, "textile", root)
        yield paths, outcome


@pytest.mark.slow
def test_every_file_lands_as_one_batch_with_the_figures_the_ministry_sent(loaded: tuple) -> None:
    paths, outcome = loaded
    sent = Counter(f.table for f in SYSTEM.files if f.name in DELIVERED)
    for table, (manifests, gate) in outcome.items():
        assert len(manifests) == sent[table], table
        assert [load.status for load in gate.loads] == ["loaded"] * sent[table], table
    assert _raw_totals(paths) == _expected_totals(SYSTEM.visible_output(AS_OF))
    home = paths.systems / textile.SYSTEM
    assert list((home / "inbox").iterdir()) == []


@pytest.mark.slow
def test_the_fact_keeps_the_latest_submission_and_adds_the_unit(loaded: tuple) -> None:
    paths, _ = loaded
    assert _fact(paths) == _expected_fact(SYSTEM.visible_output(AS_OF))
    assert warehouse_rows(
        paths,
        "select distinct product_id, unit from marts.fct_textile_mill_monthly_output"
        " where product_id in ('textile_mill_output:PGY', 'textile_mill_output:TKN')"
        " order by product_id",
    ) == [("textile_mill_output:PGY", "tonnes"), ("textile_mill_output:TKN", "thousand_pieces")]
    assert warehouse_rows(
        paths,
        "select correction_count, count(*) from marts.fct_textile_mill_monthly_output"
        " where correction_count > 0 group by correction_count",
    ) == [(1, len(SYSTEM.output_files["dokma_2023-06_v2.csv"]))]


@pytest.mark.slow
def test_exports_are_judged_against_the_export_plan_in_force(loaded: tuple) -> None:
    paths, _ = loaded
    exported: dict[tuple[str, dt.date], float] = defaultdict(float)
    for (month, mill, _), row in _latest(SYSTEM.visible_output(AS_OF)).items():
        exported[(f"textile_mill_output:{mill}", dt.date.fromisoformat(f"{month}-01"))] += (
            row.export_value_tmt
        )
    planned = {
        (
            f"textile_mill_output:{plan.mill_code}",
            dt.date.fromisoformat(f"{plan.plan_month}-01"),
        ): plan.export_value_plan_tmt
        for plan in SYSTEM.export_plans
    }
    rows = warehouse_rows(
        paths,
        "select enterprise_id, report_month, cast(export_value_tmt as double),"
        " cast(export_value_plan_tmt as double), is_reported"
        " from marts.fct_textile_mill_monthly_exports",
    )
    actual = {(mill, month): (value, plan, reported) for mill, month, value, plan, reported in rows}
    last_month = max(month for _, month in exported)
    expected_keys = {key for key in planned if key[1] <= last_month} | set(exported)
    assert actual.keys() == expected_keys
    for key, (value, plan, reported) in actual.items():
        assert plan == pytest.approx(planned[key])
        assert reported == (key in exported)
        assert value == (pytest.approx(exported[key]) if key in exported else None)
    # Kaka's June 2022 never came: planned, not reported.
    assert actual[("textile_mill_output:TX-KKA", dt.date(2022, 6, 1))][2] is False
    ratio = sum(exported.values()) / sum(planned[key] for key in exported)
    assert 0.85 < ratio < 1.1, "mills export about what the plan asks"


# --- the same records from MariaDB, with the sql kind ---------------------------------------


def _database_system() -> SourceSystem:
    """The textile system as it is when the ministry's database can be reached: kind ``sql``,
    the output read incrementally by submission time, the registers whole."""
    system = catalogue_system(textile.SYSTEM)
    return replace(
        system,
        kind="sql",
        connection_env=DATABASE_ENV,
        demo_connection=None,
        options={},
        tables=(
            replace(
                system.table("mill_output"), mode="incremental", cursor="submitted_at", options={}
            ),
            replace(system.table("mills"), mode="full", options={}),
            replace(system.table("products"), mode="full", options={}),
            replace(system.table("export_plans"), mode="full", options={}),
        ),
    )


@pytest.mark.mariadb
@pytest.mark.slow
def test_the_same_records_from_mariadb_through_the_sql_kind(
    mariadb_dsn: str,
    maglumat_home: MaglumatPaths,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(DATABASE_ENV, mariadb_dsn)
    system = _database_system()
    first_as_of = dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
    textile.write_database(mariadb_dsn, SYSTEM, first_as_of)

    first = land_and_gate(maglumat_home, system)
    assert {table: len(manifests) for table, (manifests, _) in first.items()} == {
        "mill_output": 1,
        "mills": 1,
        "products": 1,
        "export_plans": 1,
    }
    assert all(load.status == "loaded" for _, gate in first.values() for load in gate.loads)
    assert _raw_totals(maglumat_home) == _expected_totals(SYSTEM.visible_output(first_as_of))

    # The ministry enters four more months and a correction: only those rows are read.
    added = textile.write_database(mariadb_dsn, SYSTEM, AS_OF)
    second = land_and_gate(maglumat_home, system)
    (manifest,) = second["mill_output"][0]
    assert manifest.row_count == added["mill_output"]
    assert manifest.cursor_from == first["mill_output"][0][0].cursor_to
    assert second["mills"][0] == []  # unchanged registers land nothing new
    assert _raw_totals(maglumat_home) == _expected_totals(SYSTEM.visible_output(AS_OF))
    assert extract_to_landing(maglumat_home, system, system.table("mill_output")).manifests == []
    assert len(list_batches(maglumat_home.landing, textile.SYSTEM, "mill_output")) == 2

    dbt_build(maglumat_home, "textile", tmp_path)
    assert _fact(maglumat_home) == _expected_fact(SYSTEM.visible_output(AS_OF))
