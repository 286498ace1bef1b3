"""Fuel and energy (fuel_energy_production): the simulated dispatch centre, its CSV files through
the inbox, the gate and dbt, checked against independent computations over the simulator's
records."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest

from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from pipelines.ingest import GateOutcome
from pipelines.landing import BatchManifest
from simulator import fuel_energy
from tests.sectors.inbox_support import (
    catalogue_system,
    dbt_build,
    land_and_gate,
    warehouse_rows,
)

AS_OF = DEFAULT_AS_OF
SYSTEM = fuel_energy.generate()
DELIVERED = SYSTEM.delivered(AS_OF)
COLUMN = {"GAZ": "natural_gas", "KND": "gas_condensate", "NBT": "crude_oil", "ELK": "electricity"}


def _latest(records: list[fuel_energy.DailyRecord]) -> dict[tuple, fuel_energy.DailyRecord]:
    """Latest transmission of each day, enterprise and product (plain Python, no SQL)."""
    latest: dict[tuple, fuel_energy.DailyRecord] = {}
    for record in sorted(records, key=lambda r: r.transmitted_at):
        latest[(record.report_date, record.enterprise_code, record.product_code)] = record
    return latest


def _delivered_daily() -> list[fuel_energy.DailyRecord]:
    return [record for record in SYSTEM.daily if record.file_name in DELIVERED]


# --- the simulated system -------------------------------------------------------------------


def test_generate_is_deterministic_with_the_published_magnitudes() -> None:
    again = fuel_energy.generate()
    assert again.daily == SYSTEM.daily
    assert again.plans == SYSTEM.plans
    assert fuel_energy.generate(seed=7).daily != SYSTEM.daily

    latest = _latest(SYSTEM.daily)
    totals: dict[str, float] = defaultdict(float)
    for (day, _, product), record in latest.items():
        if day.year == 2022:
            totals[product] += record.quantity
    assert 75 < totals["GAZ"] / 1e6 < 85  # bcm: thousand m3 / 10^6
    assert 9.5 < totals["NBT"] / 1e6 < 10.5  # Mt
    assert 26 < totals["ELK"] / 1e6 < 30  # TWh
    # Every day from 2022 on has figures of every enterprise but for Balkan DES's outage.
    days = Counter(day for day, _, _ in latest)
    assert min(days) == dt.date(2022, 1, 1)
    assert all(
        days[day] == 32 for day in days if not dt.date(2022, 8, 10) <= day <= dt.date(2022, 8, 12)
    )
    assert {days[dt.date(2022, 8, day)] for day in (10, 11, 12)} == {31}


def test_the_files_are_written_as_the_old_and_the_new_system_write_them(
    maglumat_home: MaglumatPaths,
) -> None:
    fuel_energy.simulate(maglumat_home, AS_OF)
    inbox = maglumat_home.systems / fuel_energy.SYSTEM / "inbox"

    old = (inbox / "fek_arhiw_2022-01.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        old.decode("utf-8")
    header, first = old.decode("cp1251").splitlines()[:2]
    assert header == "Дата;Код предприятия;Код продукции;Количество;Время передачи"
    assert first.startswith("01.01.2022;")
    assert "," in first.split(";")[3]  # a decimal comma
    assert (inbox / "fek_arhiw_2023-05.csv").read_bytes().startswith(b"\xef\xbb\xbfSene,")
    assert (inbox / "fek_2023-09-13.csv").read_bytes().startswith(b"Sene,")
    assert (inbox / "fek_2023-09-12_duzedis.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    # Each file carries the moment it arrived; the 17 September file came three days late.
    arrived = {f.name: f.arrives_at for f in SYSTEM.files}
    for path in inbox.iterdir():
        assert path.stat().st_mtime == pytest.approx(arrived[path.name].timestamp())
    assert arrived["fek_2023-09-17.csv"].date() == dt.date(2023, 9, 21)


def test_simulate_sends_only_what_arrived_since_the_last_call(
    maglumat_home: MaglumatPaths,
) -> None:
    first = fuel_energy.simulate(maglumat_home, dt.datetime(2023, 9, 10, 6, tzinfo=dt.UTC))
    # The archive (20 months) and the days 1 to 9 of September, each sent the next morning.
    assert first == {"enterprises": 1, "products": 1, "monthly_plans": 2, "daily_production": 29}
    assert fuel_energy.simulate(maglumat_home, dt.datetime(2023, 9, 10, 6, tzinfo=dt.UTC)) == {}
    inbox = maglumat_home.systems / fuel_energy.SYSTEM / "inbox"
    for path in inbox.iterdir():  # the pipeline moved them out: they are not sent again
        path.unlink()
    later = fuel_energy.simulate(maglumat_home, dt.datetime(2023, 9, 12, 6, tzinfo=dt.UTC))
    assert later == {"daily_production": 2}
    assert sorted(path.name for path in inbox.iterdir()) == [
        "fek_2023-09-10.csv",
        "fek_2023-09-11.csv",
    ]


# --- through the pipeline -------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[MaglumatPaths, dict[str, tuple[list[BatchManifest], GateOutcome]]]]:
    """The demo's inbox as of 1 October 2023, landed, gated, loaded and built by dbt."""
    root = tmp_path_factory.mktemp("fuel_energy")
    paths = MaglumatPaths(home=root / "maglumat")
    paths.ensure()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        patch.delenv("MAGLUMAT_FUEL_ENERGY_PRODUCTION_INBOX", raising=False)
        fuel_energy.simulate(paths, AS_OF)
        outcome = land_and_gate(paths, catalogue_system(fuel_energy.SYSTEM))
        dbt_build(paths, "fuel_energy", root)
        yield paths, outcome


@pytest.mark.slow
def test_every_file_lands_as_one_batch_and_leaves_the_inbox(loaded: tuple) -> None:
    paths, outcome = loaded
    sent = Counter(f.table for f in SYSTEM.files if f.name in DELIVERED)
    for table, (manifests, gate) in outcome.items():
        assert len(manifests) == sent[table], table
        assert all(load.status == "loaded" for load in gate.loads), table
        assert gate.open_holds == []
    landed_files = sorted(
        m.source_file or "" for manifests, _ in outcome.values() for m in manifests
    )
    assert landed_files == sorted(DELIVERED)
    home = paths.systems / fuel_energy.SYSTEM
    assert list((home / "inbox").iterdir()) == []
    assert sorted(path.name for path in (home / "processed").iterdir()) == sorted(DELIVERED)
    assert not (home / "rejected").exists()


@pytest.mark.slow
def test_the_raw_figures_are_the_ones_the_dispatch_centre_sent(loaded: tuple) -> None:
    paths, _ = loaded
    expected: dict[str, tuple[int, float]] = {}
    for record in _delivered_daily():
        count, total = expected.get(record.product_code, (0, 0.0))
        expected[record.product_code] = (count + 1, total + record.quantity)
    actual = warehouse_rows(
        paths,
        "select product_code, count(*), sum(quantity)"
        " from raw.fuel_energy_production__daily_production group by product_code",
    )
    assert {product: (count, pytest.approx(total)) for product, count, total in actual} == {
        product: (count, pytest.approx(total)) for product, (count, total) in expected.items()
    }
    plans = [plan for plan in SYSTEM.plans if plan.file_name in DELIVERED]
    assert warehouse_rows(
        paths,
        "select count(*), sum(planned_quantity) from raw.fuel_energy_production__monthly_plans",
    ) == [(len(plans), pytest.approx(sum(plan.planned_quantity for plan in plans)))]


@pytest.mark.slow
def test_the_daily_fact_keeps_the_latest_transmission_of_each_figure(loaded: tuple) -> None:
    paths, _ = loaded
    expected: dict[tuple[str, dt.date], dict[str, float]] = defaultdict(dict)
    for (day, enterprise, product), record in _latest(_delivered_daily()).items():
        expected[(f"fuel_energy_production:{enterprise}", day)][COLUMN[product]] = record.quantity
    rows = warehouse_rows(
        paths,
        "select enterprise_id, report_date, natural_gas_thousand_m3, gas_condensate_tonnes,"
        " crude_oil_tonnes, electricity_mwh from marts.fct_fuel_energy_daily_production",
    )
    actual = {
        (enterprise, day): {
            name: float(value)
            for name, value in zip(COLUMN.values(), (gas, condensate, oil, power), strict=True)
            if value is not None
        }
        for enterprise, day, gas, condensate, oil, power in rows
    }
    assert actual == expected
    # The day sent again whole carries the corrected figures.
    corrected = {
        (r.enterprise_code, r.product_code): r.quantity
        for r in SYSTEM.daily
        if r.file_name == "fek_2023-09-12_duzedis.csv"
    }
    glk = warehouse_rows(
        paths,
        "select cast(natural_gas_thousand_m3 as double), correction_count"
        " from marts.fct_fuel_energy_daily_production"
        " where enterprise_id = 'fuel_energy_production:TGZ-GLK' and report_date = '2023-09-12'",
    )
    assert glk == [(pytest.approx(corrected[("TGZ-GLK", "GAZ")]), 1)]


@pytest.mark.slow
def test_the_monthly_fact_sets_the_plan_in_force_against_the_actual(loaded: tuple) -> None:
    paths, _ = loaded
    in_force: dict[tuple, fuel_energy.PlanRecord] = {}
    for plan in sorted(
        (p for p in SYSTEM.plans if p.file_name in DELIVERED), key=lambda p: p.version
    ):
        in_force[(plan.plan_year, plan.plan_month, plan.enterprise_code, plan.product_code)] = plan
    actual: dict[tuple, float] = defaultdict(float)
    for (day, enterprise, product), record in _latest(_delivered_daily()).items():
        actual[(day.year, day.month, enterprise, product)] += record.quantity
    for product, column in (("GAZ", "natural_gas"), ("ELK", "electricity")):
        unit = "thousand_m3" if product == "GAZ" else "mwh"
        rows = warehouse_rows(
            paths,
            f"select cast(sum({column}_plan_{unit}) as double),"
            f" cast(sum({column}_actual_{unit}) as double)"
            " from marts.fct_fuel_energy_monthly_production where year(report_month) = 2022",
        )
        plan_2022 = sum(
            p.planned_quantity for k, p in in_force.items() if k[0] == 2022 and k[3] == product
        )
        actual_2022 = sum(v for k, v in actual.items() if k[0] == 2022 and k[3] == product)
        assert rows == [(pytest.approx(plan_2022), pytest.approx(actual_2022))]
    months = warehouse_rows(
        paths,
        "select min(report_month), max(report_month) from marts.fct_fuel_energy_monthly_production",
    )
    assert months == [(dt.date(2022, 1, 1), dt.date(2023, 9, 1))]
    # Balkan DES sent nothing for three days of August 2022.
    assert warehouse_rows(
        paths,
        "select days_reported, days_in_month from marts.fct_fuel_energy_monthly_production"
        " where enterprise_id = 'fuel_energy_production:ENR-BLK' and report_month = '2022-08-01'",
    ) == [(28, 31)]


@pytest.mark.slow
def test_the_staging_enterprises_have_the_shape_every_sector_shares(loaded: tuple) -> None:
    paths, _ = loaded
    columns = warehouse_rows(
        paths,
        "select column_name from information_schema.columns where table_schema = 'staging'"
        " and table_name = 'stg_fuel_energy__enterprises' order by ordinal_position",
    )
    assert [c for (c,) in columns] == [
        "enterprise_id",
        "enterprise_name",
        "sector",
        "ministry",
        "province_code",
        "district_code",
    ]
    rows = warehouse_rows(
        paths,
        "select enterprise_id, province_code, district_code"
        " from staging.stg_fuel_energy__enterprises",
    )
    assert len(rows) == len(fuel_energy.ENTERPRISES)
    assert ("fuel_energy_production:ENR-BLK", "TM-B", None) in rows
    products = warehouse_rows(
        paths, "select product_id, unit from staging.stg_fuel_energy__products"
    )
    assert sorted(products) == sorted(
        (f"fuel_energy_production:{p.product_code}", p.unit) for p in fuel_energy.PRODUCTS
    )
