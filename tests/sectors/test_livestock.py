"""The livestock census database: realistic simulated herds and production, the ``sql`` kind
against SQLite (the demo) and the real PostgreSQL, totals after the gate, and the monthly facts
against independent computations."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from maglumat.catalogue import load_catalogue
from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.landing import list_batches, read_batch
from simulator import livestock
from tests.support import dbt_build

SYSTEM = next(s for s in load_catalogue() if s.name == "livestock_census")
AS_OF = DEFAULT_AS_OF
MAY = dt.datetime(2023, 5, 1, 6, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def census() -> livestock.LivestockSystem:
    return livestock.generate()


def _first_reports(reports: list) -> list:
    return [r for r in reports if r.revision == 1]


def test_same_seed_same_records(census: livestock.LivestockSystem) -> None:
    assert livestock.generate() == census
    assert livestock.generate(8).herd_reports != census.herd_reports


def test_herds_and_production_are_the_countrys(census: livestock.LivestockSystem) -> None:
    heads: dict[tuple[str, str], int] = defaultdict(int)
    for report in _first_reports(census.herd_reports):
        heads[(report.species, report.report_month)] += report.head_count
    assert 2_000_000 < heads[("cattle", "2023-01-01")] < 2_700_000
    assert 14_000_000 < heads[("sheep_goats", "2023-01-01")] < 20_000_000
    assert 100_000 < heads[("camels", "2023-01-01")] < 170_000
    assert heads[("sheep_goats", "2023-04-01")] > 1.15 * heads[("sheep_goats", "2023-01-01")]
    production: dict[tuple[str, str], float] = defaultdict(float)
    for report in _first_reports(census.production_reports):
        production[(report.product_code, report.report_month[:4])] += report.quantity
    assert 250_000 < production[("MEAT", "2022")] < 330_000
    assert 2_000_000 < production[("MILK", "2022")] < 2_800_000
    assert 20_000 < production[("WOOL", "2022")] < 32_000
    assert 1_400_000 < production[("EGGS", "2022")] < 2_000_000  # thousand: 1.4-2 billion eggs
    wool_months = {
        r.report_month[5:7] for r in census.production_reports if r.product_code == "WOOL"
    }
    assert wool_months == {"04", "05", "06", "09"}, "sheep are shorn in spring and autumn"


def test_the_census_carries_the_mess_of_a_real_system(census: livestock.LivestockSystem) -> None:
    months = {
        (r.district_code, r.report_month) for r in census.herd_reports if r.species == "cattle"
    }
    assert ("TM-B-02", "2022-11-01") in months
    assert ("TM-B-02", "2023-01-01") in months
    assert ("TM-B-02", "2022-12-01") not in months, "Esenguly's December report never came"
    assert any(r.revision == 2 for r in census.herd_reports)
    assert any(r.revision == 2 for r in census.production_reports)
    late = [
        r
        for r in _first_reports(census.herd_reports)
        if dt.date.fromisoformat(r.submitted_at[:10]) - dt.date.fromisoformat(r.report_month)
        > dt.timedelta(days=45)
    ]
    assert late, "some districts report weeks late"


def test_simulate_adds_only_what_was_submitted_since(
    maglumat_home: MaglumatPaths, census: livestock.LivestockSystem
) -> None:
    first = livestock.simulate(maglumat_home, MAY)
    later = livestock.simulate(maglumat_home, AS_OF)
    assert first["herd_reports"] == len(livestock.visible_at(census, MAY).herd_reports)
    assert first["herd_reports"] + later["herd_reports"] == len(
        livestock.visible_at(census, AS_OF).herd_reports
    )
    assert livestock.simulate(maglumat_home, AS_OF) == dict.fromkeys(later, 0)


def _land_and_gate(paths: MaglumatPaths) -> None:
    for table in SYSTEM.tables:
        extract_to_landing(paths, SYSTEM, table)
        for load in gate_and_load(paths, SYSTEM, table).loads:
            assert load.status == "loaded", (table.name, load)


def _raw(paths: MaglumatPaths, sql: str) -> list[tuple]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _assert_raw_equals_census(paths: MaglumatPaths, census: livestock.LivestockSystem) -> None:
    visible = livestock.visible_at(census, AS_OF)
    herds = _raw(
        paths,
        "select report_id, district_code, species, head_count, revision"
        " from raw.livestock_census__herd_reports",
    )
    assert sorted(herds) == sorted(
        (r.report_id, r.district_code, r.species, r.head_count, r.revision)
        for r in visible.herd_reports
    )
    production = _raw(
        paths,
        "select report_id, product_code, quantity from raw.livestock_census__production_reports",
    )
    assert sorted(production) == sorted(
        (r.report_id, r.product_code, r.quantity) for r in visible.production_reports
    )


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, census: livestock.LivestockSystem
) -> MaglumatPaths:
    """The demo census database (SQLite, the catalogue default) read in May and on the demo day."""
    paths = MaglumatPaths(home=tmp_path_factory.mktemp("livestock") / "maglumat")
    paths.ensure()
    dsn = livestock.demo_connection(SYSTEM.name, paths)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        patch.delenv(SYSTEM.connection_env, raising=False)
        livestock.write(dsn, census, MAY)
        _land_and_gate(paths)
        livestock.write(dsn, census, AS_OF)
        _land_and_gate(paths)
    return paths


def test_sqlite_totals_after_the_gate_equal_the_census(
    demo: MaglumatPaths, census: livestock.LivestockSystem
) -> None:
    _assert_raw_equals_census(demo, census)
    (_, second) = list_batches(demo.landing, SYSTEM.name, "herd_reports")
    landed = read_batch(demo.landing, second)
    may_ids = {r.report_id for r in livestock.visible_at(census, MAY).herd_reports}
    assert not may_ids & set(landed["report_id"].to_list())
    assert landed.height == len(livestock.visible_at(census, AS_OF).herd_reports) - len(may_ids)


@pytest.mark.postgres
def test_postgresql_with_the_sql_kind(
    postgres_dsn: str,
    maglumat_home: MaglumatPaths,
    census: livestock.LivestockSystem,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SYSTEM.connection_env, postgres_dsn)
    livestock.write(postgres_dsn, census, MAY)
    _land_and_gate(maglumat_home)
    livestock.write(postgres_dsn, census, AS_OF)
    _land_and_gate(maglumat_home)
    _assert_raw_equals_census(maglumat_home, census)
    (first, second) = list_batches(maglumat_home.landing, SYSTEM.name, "production_reports")
    assert second.cursor_from == first.cursor_to
    assert str(read_batch(maglumat_home.landing, second).schema["report_month"]) == "Date"


def _latest(reports: list, key) -> dict:
    latest = {}
    for report in sorted(reports, key=lambda r: (r.revision, r.submitted_at)):
        latest[key(report)] = report
    return latest


@pytest.mark.slow
def test_monthly_facts_match_independent_computation(
    demo: MaglumatPaths, census: livestock.LivestockSystem, tmp_path: Path
) -> None:
    dbt_build(
        demo,
        [
            "+fct_livestock_herds_monthly",
            "+fct_livestock_production_monthly",
            "+dim_dates",
            "+dim_regions",
        ],
        tmp_path,
    )
    visible = livestock.visible_at(census, AS_OF)
    herds = _latest(visible.herd_reports, lambda r: (r.district_code, r.species, r.report_month))
    national: dict[tuple[str, str], int] = defaultdict(int)
    for (_, species, month), report in herds.items():
        national[(species, month[:7])] += report.head_count
    rows = _raw(
        demo,
        "select species, strftime(month_date, '%Y-%m'), sum(head_count)"
        " from marts.fct_livestock_herds_monthly group by all",
    )
    assert {(species, month): total for species, month, total in rows} == national

    lines = _latest(
        visible.production_reports, lambda r: (r.district_code, r.product_code, r.report_month)
    )
    produced: dict[tuple[str, str], float] = defaultdict(float)
    for (district, product, month), report in lines.items():
        produced[(district, month[:7], product)] += report.quantity
    rows = _raw(
        demo,
        "select district_code, strftime(month_date, '%Y-%m'), meat_tonnes, milk_tonnes,"
        " wool_tonnes, eggs_thousand from marts.fct_livestock_production_monthly",
    )
    actual = {}
    for district, month, *values in rows:
        for product, value in zip(("MEAT", "MILK", "WOOL", "EGGS"), values, strict=True):
            if value is not None:
                actual[(district, month, product)] = float(value)
    assert actual.keys() == produced.keys()
    for key, quantity in produced.items():
        assert actual[key] == pytest.approx(quantity, abs=0.001), key
    assert ("TM-B-02", "2022-12", "MILK") not in actual
