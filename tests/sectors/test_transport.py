"""The transport statistics API: the simulated system is realistic, and what the warehouse holds
after landing, gating and dbt equals the simulator's records (computed here in plain Python).

The load runs twice against the real simulated API on 127.0.0.1: at 1 July 2023, then, after the
system was brought forward to the demo's 1 October 2023, incrementally (new months, corrections
of earlier months and a plan revision arrive through ``updated_since``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass

import duckdb
import pytest

from maglumat.catalogue import SourceSystem, load_catalogue
from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths
from pipelines.assets.transform import dbt_executable
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.landing import list_batches, read_batch
from simulator import transport

SYSTEM = next(s for s in load_catalogue() if s.name == transport.SYSTEM)
FIRST = dt.datetime(2023, 7, 1, 6, tzinfo=dt.UTC)
SECOND = transport.DEFAULT_AS_OF
RECORDS = transport.generate()
PROVINCES = {
    row["province_code"]
    for row in csv.DictReader(
        (DBT_PROJECT_DIR / "seeds" / "reference" / "ref_provinces.csv").open(encoding="utf-8")
    )
}


def _year_totals(year: int) -> dict[str, list[float]]:
    """Freight tonnes, tonne-km, passengers, passenger-km per operator in a year (as of now)."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for report in transport.visible_at(RECORDS, SECOND).traffic:
        if report.period.startswith(str(year)):
            total = totals[report.operator_code]
            total[0] += report.freight_tonnes
            total[1] += report.freight_tonne_km
            total[2] += report.passengers
            total[3] += report.passenger_km
    return totals


def test_same_seed_same_records() -> None:
    assert transport.generate(7) == transport.generate(7)
    assert transport.generate(7).traffic != transport.generate(8).traffic


def test_magnitudes_are_those_of_turkmenistan() -> None:
    totals = _year_totals(2022)
    assert 20e6 < totals["TDY"][0] < 30e6  # rail freight, tonnes
    assert 4e6 < totals["TDY"][2] < 7e6  # rail passengers
    assert 250e6 < totals["TAU"][2] < 450e6  # bus passengers, Aşgabat's city buses most
    assert 0.9e6 < totals["THY"][2] < 2.5e6  # air passengers
    assert 3e6 < totals["TDD"][0] < 5e6  # Caspian and river freight
    for tonnes, tonne_km, *_ in totals.values():
        assert tonne_km > tonnes  # every tonne travels some kilometres


def test_codes_are_real() -> None:
    assert {route.province_code for route in RECORDS.routes} <= PROVINCES
    assert {operator.province_code for operator in RECORDS.operators} <= PROVINCES
    routes = {route.route_code: route for route in RECORDS.routes}
    for report in RECORDS.traffic:
        assert routes[report.route_code].operator_code == report.operator_code
        assert routes[report.route_code].mode == report.mode


def test_records_carry_the_mess_of_a_real_system() -> None:
    visible = transport.visible_at(RECORDS, SECOND)
    versions = Counter(report.record_id for report in RECORDS.traffic)
    corrected = [record_id for record_id, count in versions.items() if count > 1]
    assert corrected, "operators correct earlier months"
    assert all(r.revision == 2 for r in visible.traffic if r.record_id in corrected[:5])
    august_air = {
        r.updated_at for r in visible.traffic if (r.operator_code, r.period) == ("THY", "2023-08")
    }
    assert len(august_air) == 1, "an operator uploads its month at once"
    assert min(august_air) > "2023-09-15", "Türkmenhowaýollary's August arrived weeks late"
    river = {r.period for r in visible.traffic if r.route_code == "RV-05"}
    assert {"2023-01", "2023-03"} <= river
    assert "2023-02" not in river, "the missing period"
    assert any(plan.revision == 2 for plan in visible.plans), "plans are revised mid-year"
    months = {r.period for r in visible.traffic}
    assert min(months) == "2022-01"
    assert max(months) == "2023-08"  # September is due in October


def test_simulate_adds_only_what_was_entered_since(maglumat_home: MaglumatPaths) -> None:
    early, late = transport.visible_at(RECORDS, FIRST), transport.visible_at(RECORDS, SECOND)
    first = transport.simulate(maglumat_home, FIRST)
    assert first == {
        "operators": len(early.operators),
        "routes": len(early.routes),
        "traffic": len(early.traffic),
        "plans": len(early.plans),
    }
    assert transport.simulate(maglumat_home, FIRST) == {
        "operators": 0,
        "routes": 0,
        "traffic": 0,
        "plans": 0,
    }
    second = transport.simulate(maglumat_home, SECOND)
    before = {r.record_id: r.updated_at for r in early.traffic}
    entered = [r for r in late.traffic if before.get(r.record_id) != r.updated_at]
    assert second["traffic"] == len(entered)
    assert any(r.record_id in before for r in entered), "corrections of months already there"
    state = json.loads(transport.state_file(maglumat_home).read_text(encoding="utf-8"))
    assert state["tables"]["traffic"] == late.tables()["traffic"]


def test_serve_sets_and_restores_the_connection_variables(
    maglumat_home: MaglumatPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_env = SYSTEM.options["token_env"]
    monkeypatch.setenv(SYSTEM.connection_env, "https://stat.example.gov.tm/api/v1")
    monkeypatch.delenv(token_env, raising=False)
    with transport.serve(maglumat_home, FIRST) as server:
        assert os.environ[SYSTEM.connection_env] == server.url
        assert server.url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(
            f"{server.url}/operators",
            headers={"Authorization": f"Bearer {os.environ[token_env]}"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert len(json.loads(answer.read())["data"]) == 4
    assert os.environ[SYSTEM.connection_env] == "https://stat.example.gov.tm/api/v1"
    assert token_env not in os.environ


def _load(paths: MaglumatPaths, system: SourceSystem) -> dict[str, list[str]]:
    """Extract, gate and load every table; the batch ids landed per table."""
    landed: dict[str, list[str]] = {}
    for table in system.tables:
        outcome = extract_to_landing(paths, system, table)
        landed[table.name] = [manifest.batch_id for manifest in outcome.manifests]
        gated = gate_and_load(paths, system, table)
        assert gated.open_holds == [], f"{table.name}: {gated.open_holds}"
        assert all(load.quarantined_rows == 0 for load in gated.loads), table.name
    return landed


@dataclass(frozen=True)
class LoadedWarehouse:
    paths: MaglumatPaths
    first: dict[str, list[str]]  # batch ids landed per table by the first load
    second: dict[str, list[str]]  # and by the incremental one


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> LoadedWarehouse:
    """The system loaded at FIRST and, incrementally, at SECOND, then the dbt models built."""
    paths = MaglumatPaths(home=tmp_path_factory.mktemp("transport") / "maglumat")
    paths.ensure()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        with transport.serve(paths, FIRST) as server:
            first = _load(paths, SYSTEM)
            transport.simulate(paths, SECOND)  # the server reads the new state on its own
            second = _load(paths, SYSTEM)
            assert server.served("traffic")[-1].since is not None
        _dbt_build(paths)
    return LoadedWarehouse(paths, first, second)


def _dbt_build(paths: MaglumatPaths) -> None:
    scratch = paths.home / "dbt"
    command = [
        dbt_executable(),
        "build",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(scratch / "target"),
        "--log-path", str(scratch / "logs"),
        "--indirect-selection", "cautious",
        "--select", "+path:models/marts/transport", "+int_transport_plan_fulfilment",
    ]  # fmt: skip
    result = subprocess.run(
        command,
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "MAGLUMAT_HOME": str(paths.home)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def _query(warehouse: LoadedWarehouse, sql: str) -> list[tuple]:
    connection = duckdb.connect(str(warehouse.paths.warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@pytest.mark.slow
def test_second_load_brings_only_new_months_and_corrections(warehouse: LoadedWarehouse) -> None:
    (second_batch,) = warehouse.second["traffic"]
    manifests = list_batches(warehouse.paths.landing, SYSTEM.name, "traffic")
    manifest = next(m for m in manifests if m.batch_id == second_batch)
    landed = read_batch(warehouse.paths.landing, manifest)
    entered = {
        r.record_id: r
        for r in transport.visible_at(RECORDS, SECOND).traffic
        if dt.datetime.fromisoformat(r.updated_at) > FIRST
    }
    assert sorted(landed["record_id"].to_list()) == sorted(entered)
    already_landed = {r.record_id for r in transport.visible_at(RECORDS, FIRST).traffic}
    assert set(entered) & already_landed, "corrections of months landed the first time"
    assert warehouse.second["plans"], "the mid-year plan revisions arrive incrementally"
    assert warehouse.second["operators"] == [], "an unchanged full table lands nothing"
    assert warehouse.second["routes"] == []


@pytest.mark.slow
def test_raw_holds_every_version_and_the_latest_equals_the_system(
    warehouse: LoadedWarehouse,
) -> None:
    rows = _query(
        warehouse,
        "select period, route_code, freight_tonnes, freight_tonne_km, passengers, passenger_km,"
        " revision from raw.transport_statistics_api__traffic"
        " qualify row_number() over (partition by period, route_code order by updated_at desc) = 1",
    )
    expected = {
        (r.period, r.route_code): (
            r.freight_tonnes,
            r.freight_tonne_km,
            r.passengers,
            r.passenger_km,
            r.revision,
        )
        for r in transport.visible_at(RECORDS, SECOND).traffic
    }
    assert {(row[0], row[1]): row[2:] for row in rows} == expected
    (versions,) = _query(warehouse, "select count(*) from raw.transport_statistics_api__traffic")
    first_seen = transport.visible_at(RECORDS, FIRST).traffic
    changed = [
        r
        for r in transport.visible_at(RECORDS, SECOND).traffic
        if dt.datetime.fromisoformat(r.updated_at) > FIRST
    ]
    assert versions[0] == len(first_seen) + len(changed)


@pytest.mark.slow
def test_operator_fact_equals_the_simulator(warehouse: LoadedWarehouse) -> None:
    visible = transport.visible_at(RECORDS, SECOND)
    actual: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0])
    for r in visible.traffic:
        total = actual[(r.operator_code, f"{r.period}-01")]
        total[0] += r.freight_tonnes
        total[1] += r.freight_tonne_km
        total[2] += r.passengers
        total[3] += r.passenger_km
        total[4] += 1
    plans = {(p.operator_code, f"{p.period}-01"): p for p in visible.plans}
    rows = _query(
        warehouse,
        "select operator_code, cast(month_start_date as varchar), actual_freight_tonnes,"
        " actual_freight_tonne_km, actual_passengers, actual_passenger_km, reported_route_count,"
        " plan_freight_tonnes, plan_passengers, plan_revision_number, is_reported"
        " from marts.fct_transport_operator_monthly",
    )
    assert {(row[0], row[1]) for row in rows} == set(plans) | set(actual)
    for operator, month, *measures, plan_tonnes, plan_people, revision, reported in rows:
        plan = plans[(operator, month)]
        assert (float(plan_tonnes), float(plan_people), revision) == (
            plan.freight_tonnes_plan,
            plan.passengers_plan,
            plan.revision,
        )
        if (operator, month) not in actual:
            assert not reported
            assert measures == [None, None, None, None, 0]
            continue
        assert reported
        expected = actual[(operator, month)]
        assert [float(value) for value in measures[:4]] == pytest.approx(expected[:4], abs=1e-3)
        assert measures[4] == expected[4]
    river_february = next(r for r in rows if r[:2] == ("TDD", "2023-02-01"))
    assert river_february[6] == 4, "the river line's missing month shows as a route short"


@pytest.mark.slow
def test_route_fact_has_one_row_per_reported_route_month(warehouse: LoadedWarehouse) -> None:
    visible = transport.visible_at(RECORDS, SECOND)
    ((rows, corrected, freight),) = _query(
        warehouse,
        "select count(*), count(*) filter (where revision_number > 1), sum(freight_tonnes)"
        " from marts.fct_transport_route_monthly",
    )
    assert rows == len(visible.traffic)
    assert corrected == sum(1 for r in visible.traffic if r.revision > 1)
    assert float(freight) == pytest.approx(sum(r.freight_tonnes for r in visible.traffic))


@pytest.mark.slow
def test_enterprises_for_dim_enterprises(warehouse: LoadedWarehouse) -> None:
    rows = _query(
        warehouse,
        "select enterprise_id, enterprise_name, sector, ministry, province_code, district_code"
        " from staging.stg_transport__enterprises order by enterprise_id",
    )
    assert [row[0] for row in rows] == [
        f"transport_statistics_api:{code}" for code in ("TAU", "TDD", "TDY", "THY")
    ]
    assert {row[2] for row in rows} == {"transport"}
    assert {row[3] for row in rows} == {"Agency of Transport and Communications"}
    assert all(row[4] in PROVINCES and row[5] is None for row in rows)


@pytest.mark.slow
def test_plan_revisions_seen_over_two_loads_give_original_in_force_and_latest(
    warehouse: LoadedWarehouse,
) -> None:
    """The first load saw the annual plans, the second the mid-year revisions (air passengers
    from July, rail freight from October): all three plans are known for those months."""
    revisions: dict[tuple[str, str], dict[int, transport.MonthlyPlan]] = defaultdict(dict)
    for plan in RECORDS.plans:
        revisions[(plan.operator_code, plan.period)][plan.revision] = plan
    rows = _query(
        warehouse,
        "select operator_code, strftime(month_start_date, '%Y-%m'), original_plan_passengers,"
        " in_force_plan_passengers, in_force_revision_number, latest_plan_passengers,"
        " original_plan_freight_tonne_km, latest_plan_freight_tonne_km"
        " from intermediate.int_transport_plan_fulfilment"
        " where month_start_date between '2023-01-01' and '2023-09-01'",
    )
    revised = 0
    for (
        operator,
        period,
        original,
        in_force,
        in_force_revision,
        latest,
        original_tkm,
        latest_tkm,
    ) in rows:
        known = revisions[(operator, period)]
        newest = known[max(known)]
        assert float(original) == pytest.approx(known[1].passengers_plan)
        assert float(latest) == pytest.approx(newest.passengers_plan)
        assert float(original_tkm) == pytest.approx(known[1].freight_tonne_km_plan)
        assert float(latest_tkm) == pytest.approx(newest.freight_tonne_km_plan)
        in_force_plan = max(
            (plan for plan in known.values() if plan.approved_on <= f"{period}-31"),
            key=lambda plan: plan.revision,
        )
        assert in_force_revision == in_force_plan.revision
        assert float(in_force) == pytest.approx(in_force_plan.passengers_plan)
        if len(known) > 1:
            revised += 1
            assert float(original) < float(latest), "the review asked for more air passengers"
    assert revised == 3, "THY's July to September plans were revised within the loaded months"
