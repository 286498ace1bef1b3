"""The telecommunications statistics API: the simulated system is realistic, and what the
warehouse holds after landing, gating and dbt equals the simulator's records (computed here in
plain Python).

The load runs twice against the real simulated API on 127.0.0.1: at 1 July 2023 and,
incrementally, at the demo's 1 October 2023 (new months and corrections through
``updated_since``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass

import duckdb
import pytest

from maglumat.catalogue import SourceSystem, load_catalogue
from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths
from pipelines.assets.transform import dbt_executable
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.landing import list_batches, read_batch
from simulator import telecom

SYSTEM = next(s for s in load_catalogue() if s.name == telecom.SYSTEM)
FIRST = dt.datetime(2023, 7, 1, 6, tzinfo=dt.UTC)
SECOND = telecom.DEFAULT_AS_OF
RECORDS = telecom.generate()
PROVINCES = {
    row["province_code"]
    for row in csv.DictReader(
        (DBT_PROJECT_DIR / "seeds" / "reference" / "ref_provinces.csv").open(encoding="utf-8")
    )
}


def _national(period: str) -> dict[str, float]:
    """Subscribers per service in the whole country at the end of a month (as of now)."""
    totals: dict[str, float] = defaultdict(float)
    for count in telecom.visible_at(RECORDS, SECOND).subscribers:
        if count.period == period:
            totals[count.service] += count.subscribers
    return totals


def test_same_seed_same_records() -> None:
    assert telecom.generate(7) == telecom.generate(7)
    assert telecom.generate(7).traffic != telecom.generate(8).traffic


def test_magnitudes_are_those_of_turkmenistan() -> None:
    start, now = _national("2022-01"), _national("2023-08")
    assert 6.0e6 < start["mobile"] < now["mobile"] < 7.5e6  # some 7 million people
    assert 3.0e6 < start["mobile_internet"] < now["mobile_internet"] < 5.5e6
    assert 0.6e6 < now["fixed"] < start["fixed"] < 0.75e6  # fixed lines slowly give way
    assert 0.08e6 < start["fixed_internet"] < now["fixed_internet"] < 0.2e6
    capital = sum(
        c.subscribers
        for c in telecom.visible_at(RECORDS, SECOND).subscribers
        if (c.period, c.service, c.province_code) == ("2023-08", "fixed_internet", "TM-S")
    )
    assert capital / now["fixed_internet"] > 0.35, "Aşgabat leads in fixed internet"
    minutes = sum(
        t.voice_minutes
        for t in telecom.visible_at(RECORDS, SECOND).traffic
        if (t.period, t.operator_code) == ("2023-08", "AA")
    )
    assert 0.7e9 < minutes < 1.3e9  # some 140 minutes per mobile subscription a month
    data_growth = [
        sum(t.data_tb for t in RECORDS.traffic if t.period == period and t.revision == 1)
        for period in ("2022-06", "2023-06")
    ]
    assert data_growth[1] > 1.15 * data_growth[0]


def test_codes_are_real() -> None:
    assert {count.province_code for count in RECORDS.subscribers} == PROVINCES
    assert {volume.province_code for volume in RECORDS.traffic} == PROVINCES
    assert {count.operator_code for count in RECORDS.subscribers} == {"AA", "TT"}


def test_records_carry_the_mess_of_a_real_system() -> None:
    visible = telecom.visible_at(RECORDS, SECOND)
    versions = Counter(volume.record_id for volume in RECORDS.traffic)
    assert any(count > 1 for count in versions.values()), "operators correct earlier months"
    assert any(count.revision == 2 for count in visible.subscribers)
    balkan = {
        t.period for t in visible.traffic if t.province_code == "TM-B" and t.operator_code == "TT"
    }
    assert {"2022-10", "2022-12"} <= balkan
    assert "2022-11" not in balkan, "the missing period"
    june = {
        c.updated_at
        for c in visible.subscribers
        if (c.operator_code, c.period) == ("AA", "2023-06")
    }
    assert len(june) == 1, "an operator uploads its month at once"
    assert min(june) > "2023-07-14", "Altyn Asyr's June arrived weeks late"
    assert max(c.period for c in visible.subscribers) == "2023-08"


def test_simulate_adds_only_what_was_entered_since(maglumat_home: MaglumatPaths) -> None:
    early, late = telecom.visible_at(RECORDS, FIRST), telecom.visible_at(RECORDS, SECOND)
    assert telecom.simulate(maglumat_home, FIRST) == {
        "operators": 2,
        "subscribers": len(early.subscribers),
        "traffic": len(early.traffic),
    }
    second = telecom.simulate(maglumat_home, SECOND)
    before = {c.record_id: c.updated_at for c in early.subscribers}
    entered = [c for c in late.subscribers if before.get(c.record_id) != c.updated_at]
    assert second["subscribers"] == len(entered)
    assert second["operators"] == 0
    state = json.loads(telecom.state_file(maglumat_home).read_text(encoding="utf-8"))
    assert state["tables"]["subscribers"] == late.tables()["subscribers"]
    assert telecom.simulate(maglumat_home, FIRST)["subscribers"] == 0, "time never goes back"
    state = json.loads(telecom.state_file(maglumat_home).read_text(encoding="utf-8"))
    assert state["tables"]["traffic"] == late.tables()["traffic"]


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
        "--select", "+path:models/marts/telecom",
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


@dataclass(frozen=True)
class LoadedWarehouse:
    paths: MaglumatPaths
    first: dict[str, list[str]]  # batch ids landed per table by the first load
    second: dict[str, list[str]]  # and by the incremental one


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> LoadedWarehouse:
    """The system loaded at FIRST and, incrementally, at SECOND, then the dbt models built."""
    paths = MaglumatPaths(home=tmp_path_factory.mktemp("telecom") / "maglumat")
    paths.ensure()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        with telecom.serve(paths, FIRST):
            first = _load(paths, SYSTEM)
            telecom.simulate(paths, SECOND)  # the server reads the new state on its own
            second = _load(paths, SYSTEM)
        _dbt_build(paths)
    return LoadedWarehouse(paths, first, second)


def _query(warehouse: LoadedWarehouse, sql: str) -> list[tuple]:
    connection = duckdb.connect(str(warehouse.paths.warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@pytest.mark.slow
def test_second_load_brings_only_what_was_entered_since(warehouse: LoadedWarehouse) -> None:
    for table, records in (
        ("subscribers", telecom.visible_at(RECORDS, SECOND).subscribers),
        ("traffic", telecom.visible_at(RECORDS, SECOND).traffic),
    ):
        (batch_id,) = warehouse.second[table]
        manifest = next(
            m
            for m in list_batches(warehouse.paths.landing, SYSTEM.name, table)
            if m.batch_id == batch_id
        )
        landed = read_batch(warehouse.paths.landing, manifest)["record_id"].to_list()
        entered = [r.record_id for r in records if dt.datetime.fromisoformat(r.updated_at) > FIRST]
        assert sorted(landed) == sorted(entered), table
    assert warehouse.second["operators"] == []


@pytest.mark.slow
def test_subscriber_fact_equals_the_simulator(warehouse: LoadedWarehouse) -> None:
    expected = {
        (c.province_code, c.operator_code, c.service, f"{c.period}-01"): (
            float(c.subscribers),
            float(c.new_connections),
            c.revision,
        )
        for c in telecom.visible_at(RECORDS, SECOND).subscribers
    }
    rows = _query(
        warehouse,
        "select province_code, operator_code, service_code, cast(month_start_date as varchar),"
        " subscribers, new_connections, revision_number"
        " from marts.fct_telecom_subscribers_monthly",
    )
    actual = {row[:4]: (float(row[4]), float(row[5]), row[6]) for row in rows}
    assert actual == expected


@pytest.mark.slow
def test_traffic_fact_equals_the_simulator(warehouse: LoadedWarehouse) -> None:
    visible = telecom.visible_at(RECORDS, SECOND).traffic
    by_operator: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for volume in visible:
        by_operator[volume.operator_code][0] += volume.voice_minutes
        by_operator[volume.operator_code][1] += volume.data_tb
    rows = _query(
        warehouse,
        "select operator_code, sum(voice_minutes), sum(data_tb), count(*)"
        " from marts.fct_telecom_traffic_monthly group by operator_code",
    )
    assert {row[0] for row in rows} == {"AA", "TT"}
    for operator, minutes, terabytes, months in rows:
        assert float(minutes) == by_operator[operator][0]
        assert float(terabytes) == pytest.approx(by_operator[operator][1], abs=1e-3)
        assert months == sum(1 for v in visible if v.operator_code == operator)
    ((missing,),) = _query(
        warehouse,
        "select count(*) from marts.fct_telecom_traffic_monthly where province_code = 'TM-B'"
        " and operator_code = 'TT' and month_start_date = '2022-11-01'",
    )
    assert missing == 0


@pytest.mark.slow
def test_corrections_seen_by_both_loads_keep_their_history(warehouse: LoadedWarehouse) -> None:
    """A month corrected between the two loads is in raw twice; the fact takes the correction."""
    early = {c.record_id: c for c in telecom.visible_at(RECORDS, FIRST).subscribers}
    corrected = [
        c
        for c in telecom.visible_at(RECORDS, SECOND).subscribers
        if c.record_id in early and c.updated_at != early[c.record_id].updated_at
    ]
    assert corrected
    rows = _query(
        warehouse,
        "select subscriber_record_id, subscribers, landed_version_count"
        " from marts.fct_telecom_subscribers_monthly where landed_version_count > 1",
    )
    assert {row[0]: (float(row[1]), row[2]) for row in rows} == {
        c.record_id: (float(c.subscribers), 2) for c in corrected
    }


@pytest.mark.slow
def test_enterprises_for_dim_enterprises(warehouse: LoadedWarehouse) -> None:
    rows = _query(
        warehouse,
        "select enterprise_id, enterprise_name, sector, ministry, province_code, district_code"
        " from staging.stg_telecom__enterprises order by enterprise_id",
    )
    assert [row[0] for row in rows] == [
        "telecom_statistics_api:AA",
        "telecom_statistics_api:TT",
    ]
    assert rows[0][1] == "«Altyn Asyr» ýapyk görnüşli paýdarlar jemgyýeti"
    assert {row[2:] for row in rows} == {
        ("telecom", "Agency of Transport and Communications", "TM-S", None)
    }
