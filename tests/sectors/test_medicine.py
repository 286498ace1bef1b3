"""Medicine (medicine_facility_reports): the health ministry's monthly facility and medicine
stock workbooks through the inbox, the gate and dbt, checked against independent computations
over the simulator's records. Aggregates only: no person-level data anywhere."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook

from maglumat.catalogue import system_named
from maglumat.settings import MaglumatPaths
from simulator import medicine
from tests.sectors.inbox_support import (
    catalogue_system,
    dbt_build,
    land_and_gate,
    warehouse_rows,
)

AS_OF = medicine.DEFAULT_AS_OF
SYSTEM = medicine.generate()
DELIVERED = SYSTEM.delivered(AS_OF)


def _latest_reports() -> dict[tuple[dt.date, str], medicine.FacilityReport]:
    """Latest compiled version of each facility's month among the delivered reports."""
    latest: dict[tuple[dt.date, str], medicine.FacilityReport] = {}
    delivered = [r for r in SYSTEM.facility_reports if r.file_name in DELIVERED]
    for report in sorted(delivered, key=lambda r: r.compiled_on):
        latest[(report.report_month, report.facility_code)] = report
    return latest


def test_generate_is_deterministic_and_holds_aggregates_only() -> None:
    assert medicine.generate().facility_reports == SYSTEM.facility_reports
    assert medicine.generate().stock_reports == SYSTEM.stock_reports
    assert len(SYSTEM.facilities) == 64  # district hospitals, province hospitals, centres
    # Every table's contract is counts and codes of facilities and medicines: nothing that
    # names or describes a person.
    for table in ("facility_reports", "medicine_stock", "facilities", "medicines"):
        columns = set(system_named(medicine.SYSTEM).table(table).columns)
        assert not columns & {"patient", "patient_name", "birth_date", "diagnosis", "person_id"}
    stock = SYSTEM.stock_reports
    assert all(r.closing_stock == r.opening_stock + r.received - r.consumed for r in stock)
    assert all(r.closing_stock >= 0 for r in stock)


def test_the_workbooks_have_merged_headers_and_real_dates(maglumat_home: MaglumatPaths) -> None:
    added = medicine.simulate(maglumat_home, dt.datetime(2022, 2, 15, tzinfo=dt.UTC))
    assert added == {"facilities": 1, "medicines": 1, "facility_reports": 1, "medicine_stock": 1}
    inbox = maglumat_home.systems / medicine.SYSTEM / "inbox"
    sheet = load_workbook(inbox / "saglyk_hasabat_2022-01.xlsx")["Hasabat"]
    assert {"C6:D6", "E6:F6", "A6:A7", "G6:G7"} <= {str(r) for r in sheet.merged_cells.ranges}
    assert isinstance(sheet["G8"].value, dt.datetime)  # submission date as an Excel date
    stock = load_workbook(inbox / "derman_galyndy_2022-01.xlsx")["Galyndy"]
    assert "A8:A19" in {str(r) for r in stock.merged_cells.ranges}  # a facility's 12 medicines


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MaglumatPaths, dict]]:
    """The demo's inbox as of 1 October 2023, landed, gated, loaded and built by dbt."""
    root = tmp_path_factory.mktemp("medicine")
    paths = MaglumatPaths(home=root / "maglumat")
    paths.ensure()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        patch.delenv("MAGLUMAT_MEDICINE_FACILITY_REPORTS_INBOX", raising=False)
        medicine.simulate(paths, AS_OF)
        outcome = land_and_gate(paths, catalogue_system(medicine.SYSTEM))
        dbt_build(paths, "medicine", root)
        yield paths, outcome


@pytest.mark.slow
def test_every_workbook_lands_as_one_batch_and_the_gate_loads_it_all(loaded: tuple) -> None:
    paths, outcome = loaded
    sent = Counter(f.table for f in SYSTEM.files if f.name in DELIVERED)
    for table, (manifests, gate) in outcome.items():
        assert len(manifests) == sent[table], table
        assert [load.status for load in gate.loads] == ["loaded"] * sent[table], table
    reports = [r for r in SYSTEM.facility_reports if r.file_name in DELIVERED]
    assert warehouse_rows(
        paths,
        "select count(*), sum(beds), sum(bed_days_used), sum(outpatient_visits),"
        " sum(inpatient_admissions) from raw.medicine_facility_reports__facility_reports",
    ) == [
        (
            len(reports),
            sum(r.beds for r in reports),
            sum(r.bed_days_used for r in reports),
            sum(r.outpatient_visits for r in reports),
            sum(r.inpatient_admissions for r in reports),
        )
    ]
    stock = [r for r in SYSTEM.stock_reports if r.file_name in DELIVERED]
    assert warehouse_rows(
        paths,
        "select count(*), sum(received), sum(consumed), sum(closing_stock)"
        " from raw.medicine_facility_reports__medicine_stock",
    ) == [
        (
            len(stock),
            sum(r.received for r in stock),
            sum(r.consumed for r in stock),
            sum(r.closing_stock for r in stock),
        )
    ]


@pytest.mark.slow
def test_the_facility_fact_counts_silence_lateness_and_corrections(loaded: tuple) -> None:
    paths, _ = loaded
    latest = _latest_reports()
    months = sorted({month for month, _ in latest})
    codes = [facility.facility_code for facility in SYSTEM.facilities]
    rows = warehouse_rows(
        paths,
        "select report_month, enterprise_id, is_reported, is_submitted_on_time,"
        " outpatient_visits from marts.fct_medicine_facility_monthly",
    )
    assert len(rows) == len(months) * len(codes)
    actual = {(month, enterprise): rest for month, enterprise, *rest in rows}
    for month in months:
        due = (month + dt.timedelta(days=32)).replace(day=medicine.DUE_DAY)
        for code in codes:
            report = latest.get((month, code))
            expected = (
                [False, False, None]
                if report is None
                else [True, report.submitted_on <= due, report.outpatient_visits]
            )
            assert actual[(month, f"medicine_facility_reports:{code}")] == expected, (month, code)
    # The facility missing from July 2023 was caught up by the corrected report.
    caught_up = medicine.CORRECTED_MONTH, SYSTEM.facilities[7].facility_code
    assert actual[(caught_up[0], f"medicine_facility_reports:{caught_up[1]}")][0] is True
    # Some facility-months never reported at all, and the fact says so rather than dropping them.
    silent = sum(1 for values in actual.values() if not values[0])
    assert silent == sum(1 for month in months for code in codes if (month, code) not in latest)
    assert silent > 0


@pytest.mark.slow
def test_the_stock_fact_matches_the_reports_and_names_stock_outs(loaded: tuple) -> None:
    paths, _ = loaded
    stock = [r for r in SYSTEM.stock_reports if r.file_name in DELIVERED]
    assert warehouse_rows(
        paths,
        "select count(*), cast(sum(consumed_units) as bigint),"
        " cast(sum(closing_stock_units) as bigint), count(*) filter (where is_stock_out)"
        " from marts.fct_medicine_stock_monthly",
    ) == [
        (
            len(stock),
            sum(r.consumed for r in stock),
            sum(r.closing_stock for r in stock),
            sum(1 for r in stock if r.closing_stock == 0),
        )
    ]
    units = dict(
        warehouse_rows(paths, "select product_id, unit from staging.stg_medicine__products")
    )
    assert units == {
        f"medicine_facility_reports:{m.medicine_code}": m.unit for m in SYSTEM.medicines
    }
