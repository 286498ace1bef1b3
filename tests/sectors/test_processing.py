"""The processing industry's output register: realistic simulated records, the ``sql`` kind
against the SQLite demo database and the real MariaDB, totals after the gate, and the monthly
output fact against an independent computation."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from maglumat.catalogue import load_catalogue
from maglumat.settings import MaglumatPaths
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.landing import list_batches, read_batch
from simulator import processing
from tests.support import dbt_build, expected_processing_months

SYSTEM = next(s for s in load_catalogue() if s.name == "processing_output")
AS_OF = processing.DEFAULT_AS_OF
NEXT_DAY = AS_OF + dt.timedelta(days=1)
JUNE = dt.datetime(2023, 6, 1, 6, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def register() -> processing.ProcessingSystem:
    return processing.generate()


def test_same_seed_same_records(register: processing.ProcessingSystem) -> None:
    assert processing.generate() == register
    assert processing.generate(8).daily_output != register.daily_output


def _first_entries(system: processing.ProcessingSystem) -> list[processing.DailyOutput]:
    return [r for r in system.daily_output if r.corrects_record_id is None]


def test_output_is_the_countrys_magnitude(register: processing.ProcessingSystem) -> None:
    by_product: dict[tuple[str, str], float] = defaultdict(float)
    for record in _first_entries(register):
        by_product[(record.product_code, record.output_date[:4])] += record.quantity_tonnes
    for year in ("2022", "2023"):
        assert 300_000 < by_product[("101", year)] < 420_000  # cotton fibre
        assert 600_000 < by_product[("201", year)] < 800_000  # wheat flour
        assert 45_000 < by_product[("301", year)] < 70_000  # cottonseed oil
    seasons = {r.output_date[5:7] for r in register.daily_output if r.plant_code.startswith("PZ")}
    assert seasons == {"01", "02", "09", "10", "11", "12"}, "gins work from September to February"


def test_the_register_carries_the_mess_of_a_real_system(
    register: processing.ProcessingSystem,
) -> None:
    records = {r.record_id: r for r in register.daily_output}
    corrections = [r for r in register.daily_output if r.corrects_record_id is not None]
    assert 0.01 < len(corrections) / len(records) < 0.03
    for correction in corrections:
        original = records[correction.corrects_record_id]
        assert (original.plant_code, original.product_code, original.output_date) == (
            correction.plant_code,
            correction.product_code,
            correction.output_date,
        )
        assert original.entered_at < correction.entered_at
        assert original.record_id < correction.record_id
    late = [
        r
        for r in _first_entries(register)
        if dt.date.fromisoformat(r.entered_at[:10]) - dt.date.fromisoformat(r.output_date)
        > dt.timedelta(days=2)
    ]
    assert late, "some plants enter their output days late"
    outage = {
        r.output_date
        for r in register.daily_output
        if r.plant_code == "YZ-03" and "2023-03-01" <= r.output_date <= "2023-03-31"
    }
    assert "2023-03-05" in outage
    assert "2023-03-20" in outage
    assert not any("2023-03-06" <= day <= "2023-03-19" for day in outage)
    versions = [p for p in register.plants if p.plant_code == "SZ-01"]
    assert len(versions) == 2
    assert versions[0].plant_name != versions[1].plant_name
    assert min(r.output_date for r in register.daily_output if r.plant_code == "KZ-04") >= (
        "2023-05-02"
    )
    revised = [p for p in register.monthly_plans if p.version == 2]
    assert revised, "the plan is revised in summer"


def test_simulate_adds_only_what_was_entered_since(
    maglumat_home: MaglumatPaths, register: processing.ProcessingSystem
) -> None:
    first = processing.simulate(maglumat_home, JUNE)
    assert processing.simulate(maglumat_home, JUNE) == dict.fromkeys(first, 0)
    later = processing.simulate(maglumat_home, AS_OF)
    in_june = processing.visible_at(register, JUNE)
    in_october = processing.visible_at(register, AS_OF)
    assert first["daily_output"] == len(in_june.daily_output)
    assert later["daily_output"] == len(in_october.daily_output) - len(in_june.daily_output)
    assert later["plants"] == 0  # the renamed dairy and the new cannery came before June
    assert (maglumat_home.systems / "processing_output.sqlite").exists()


def _land_and_gate(paths: MaglumatPaths) -> dict[str, list]:
    outcomes = {}
    for table in SYSTEM.tables:
        extract_to_landing(paths, SYSTEM, table)
        outcomes[table.name] = gate_and_load(paths, SYSTEM, table).loads
    return outcomes


def _raw(paths: MaglumatPaths, sql: str) -> list[tuple]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _assert_raw_equals(paths: MaglumatPaths, visible: processing.ProcessingSystem) -> None:
    rows = _raw(
        paths,
        "select record_id, plant_code, product_code, cast(output_date as varchar),"
        " quantity_tonnes, corrects_record_id from raw.processing_output__daily_output",
    )
    assert sorted(rows) == sorted(
        (
            r.record_id,
            r.plant_code,
            r.product_code,
            r.output_date,
            r.quantity_tonnes,
            r.corrects_record_id,
        )
        for r in visible.daily_output
    )
    plans = _raw(paths, "select plan_id, plan_tonnes from raw.processing_output__monthly_plans")
    assert sorted(plans) == sorted((p.plan_id, p.plan_tonnes) for p in visible.monthly_plans)


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, register: processing.ProcessingSystem
) -> MaglumatPaths:
    """The demo register (SQLite, the catalogue default) on the demo day, landed and gated."""
    paths = MaglumatPaths(home=tmp_path_factory.mktemp("processing") / "maglumat")
    paths.ensure()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        patch.delenv(SYSTEM.connection_env, raising=False)
        processing.write(processing.demo_connection(SYSTEM.name, paths), register, AS_OF)
        outcomes = _land_and_gate(paths)
    for loads in outcomes.values():
        assert [load.status for load in loads] == ["loaded"]
    return paths


def test_sqlite_totals_after_the_gate_equal_the_simulators_records(
    demo: MaglumatPaths, register: processing.ProcessingSystem
) -> None:
    _assert_raw_equals(demo, processing.visible_at(register, AS_OF))
    plants = _raw(
        demo, "select count(*), count(distinct plant_code) from raw.processing_output__plants"
    )
    assert plants == [(39, 39)]


def test_the_next_day_lands_only_the_new_and_corrected_entries(
    demo: MaglumatPaths,
    register: processing.ProcessingSystem,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "maglumat"
    shutil.copytree(demo.home, home)
    paths = MaglumatPaths(home=home)
    monkeypatch.setenv("MAGLUMAT_HOME", str(home))
    processing.write(processing.demo_connection(SYSTEM.name, paths), register, NEXT_DAY)
    outcome = extract_to_landing(paths, SYSTEM, SYSTEM.table("daily_output"))
    (manifest,) = outcome.manifests
    landed = read_batch(paths.landing, manifest)
    before = {r.record_id for r in processing.visible_at(register, AS_OF).daily_output}
    new = {r.record_id for r in processing.visible_at(register, NEXT_DAY).daily_output} - before
    assert set(landed["record_id"].to_list()) == new
    assert manifest.cursor_from < manifest.cursor_to
    assert extract_to_landing(paths, SYSTEM, SYSTEM.table("plants")).manifests == []
    gate_and_load(paths, SYSTEM, SYSTEM.table("daily_output"))
    _assert_raw_equals(paths, processing.visible_at(register, NEXT_DAY))


@pytest.mark.mariadb
def test_mariadb_with_the_sql_kind(
    mariadb_dsn: str,
    maglumat_home: MaglumatPaths,
    register: processing.ProcessingSystem,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SYSTEM.connection_env, mariadb_dsn)
    added = processing.write(mariadb_dsn, register, JUNE)
    assert added["daily_output"] == len(processing.visible_at(register, JUNE).daily_output)
    _land_and_gate(maglumat_home)
    _assert_raw_equals(maglumat_home, processing.visible_at(register, JUNE))

    processing.write(mariadb_dsn, register, AS_OF)
    outcomes = _land_and_gate(maglumat_home)
    assert [load.status for load in outcomes["daily_output"]] == ["loaded"]
    manifest = list_batches(maglumat_home.landing, SYSTEM.name, "daily_output")[-1]
    landed = read_batch(maglumat_home.landing, manifest)
    assert str(landed.schema["output_date"]) == "Date"
    assert str(landed.schema["entered_at"]).startswith("Datetime")
    june_ids = {r.record_id for r in processing.visible_at(register, JUNE).daily_output}
    assert not june_ids & set(landed["record_id"].to_list())
    _assert_raw_equals(maglumat_home, processing.visible_at(register, AS_OF))
    sources = _raw(maglumat_home, "select distinct source from audit.batches")
    assert [source for (source,) in sources] == [mariadb_dsn]


@pytest.mark.slow
def test_monthly_fact_matches_independent_computation(
    demo: MaglumatPaths, register: processing.ProcessingSystem, tmp_path: Path
) -> None:
    dbt_build(demo, ["+fct_processing_output_monthly", "+dim_dates"], tmp_path)
    rows = _raw(
        demo,
        "select plant_code, product_code, strftime(month_date, '%Y-%m'), plan_tonnes,"
        " output_tonnes from marts.fct_processing_output_monthly",
    )
    actual = {
        (plant, product, month): (None if plan is None else float(plan), float(output))
        for plant, product, month, plan, output in rows
    }
    expected = expected_processing_months(register, AS_OF)
    assert actual.keys() == expected.keys()
    for key, (plan, output) in expected.items():
        assert actual[key][0] == plan, key
        assert actual[key][1] == pytest.approx(output, abs=0.01), key
    enterprises = _raw(demo, "select count(*) from staging.stg_processing__enterprises")
    assert enterprises == [(39,)]
