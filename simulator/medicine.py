"""The health ministry's monthly facility reports and medicine stock, simulated
(``medicine_facility_reports``).

Every month the Ministry of Health and Medical Industry's statistics centre consolidates the
facilities' monthly reports into two XLSX workbooks and drops them into the warehouse's inbox:
the facility report (beds, bed-days used, outpatient visits, admissions and the date each
facility submitted) and the medicine stock report (opening stock, received, consumed and closing
stock by facility and medicine). Both are aggregated: no person-level data ever leaves the
facilities. The facility register and the medicine classifier come as workbooks of their own.
Facilities: each district's central hospital (health centres in Aşgabat's boroughs), each
province's multi-profile hospital and four national centres in Aşgabat.

The mess of the real thing: facilities are due on the 5th and some submit days late; a few
facility-months never report; the July 2023 report is sent again corrected, with a facility
that was missing caught up; deliveries of medicines come in lumps, so stocks run out.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from dataclasses import dataclass, replace

from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths
from simulator.chemical import months
from simulator.inbox import InboxFile, deliver, inbox_of
from simulator.medicine_records import (
    MEDICINES,
    NATIONAL_CENTRES,
    PROVINCE_HOSPITALS,
    Facility,
    FacilityReport,
    Medicine,
    StockReport,
)
from simulator.medicine_workbooks import inbox_files

SYSTEM = "medicine_facility_reports"
CORRECTED_MONTH = dt.date(2023, 7, 1)
CORRECTED_ON = dt.date(2023, 8, 25)
DUE_DAY = 5  # facilities submit the month's report by the 5th of the next month


@dataclass(frozen=True)
class MedicineSystem:
    facilities: list[Facility]
    medicines: list[Medicine]
    facility_reports: list[FacilityReport]
    stock_reports: list[StockReport]
    files: list[InboxFile]

    def delivered(self, as_of: dt.datetime) -> set[str]:
        return {f.name for f in self.files if f.arrives_at <= as_of}


def _districts() -> list[dict[str, str]]:
    path = DBT_PROJECT_DIR / "seeds" / "reference" / "ref_districts.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if not row["valid_to"]]


def _facilities(rng: random.Random) -> list[Facility]:
    facilities = []
    for district in _districts():
        code = district["district_code"]
        city = code.startswith("TM-S")
        facilities.append(
            Facility(
                facility_code=f"SG-{code[3]}{code[5:]}",
                name_tk=f"{district['name_tk']} etrap "
                + ("saglyk merkezi" if city else "merkezi hassahanasy"),
                name_ru=("Центр здоровья этрапа " if city else "Центральная больница этрапа ")
                + district["name_ru"],
                facility_type="health_centre" if city else "district_hospital",
                province_code=district["province_code"],
                district_code=code,
                beds=rng.randint(40, 120) if city else rng.randint(60, 250),
            )
        )
    for province, (name_tk, name_ru) in PROVINCE_HOSPITALS.items():
        facilities.append(
            Facility(
                facility_code=f"SG-{province[3]}W",
                name_tk=f"{name_tk} welaýat köpugurly hassahanasy",
                name_ru=f"Многопрофильная больница {name_ru} велаята",
                facility_type="province_hospital",
                province_code=province,
                district_code=None,
                beds=rng.randint(350, 600),
            )
        )
    for code, name_tk, name_ru, beds in NATIONAL_CENTRES:
        facilities.append(
            Facility(code, name_tk, name_ru, "national_centre", "TM-S", "TM-S-02", beds)
        )
    return facilities


def _days_in(month: dt.date) -> int:
    return ((month + dt.timedelta(days=32)).replace(day=1) - month).days


def _next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def report_name(kind: str, month: dt.date, corrected: bool = False) -> str:
    prefix = "saglyk_hasabat" if kind == "facility" else "derman_galyndy"
    return f"{prefix}_{month:%Y-%m}{'_duzedis' if corrected else ''}.xlsx"


def _facility_reports(rng: random.Random, facilities: list[Facility]) -> list[FacilityReport]:
    every = [(month, facility) for month in months() for facility in facilities]
    silent = {(every[i][0], every[i][1].facility_code) for i in rng.sample(range(len(every)), 3)}
    # The facility that did not report in July 2023 is caught up in the corrected report.
    late_caught_up = (CORRECTED_MONTH, facilities[7].facility_code)
    silent.add(late_caught_up)
    reports: list[FacilityReport] = []
    caught_up: list[FacilityReport] = []
    for month in months():
        winter = 1 + 0.12 * math.cos(2 * math.pi * (month.month - 1) / 12)
        compiled = _next_month(month) + dt.timedelta(days=10)
        for facility in facilities:
            days = _days_in(month)
            occupancy = min(0.98, rng.uniform(0.55, 0.85) * winter)
            bed_days = round(facility.beds * days * occupancy)
            late = rng.random() < 0.15
            due = _next_month(month) + dt.timedelta(days=DUE_DAY - 1)
            submitted = due + dt.timedelta(days=rng.randint(1, 7) if late else -rng.randint(0, 3))
            report = FacilityReport(
                report_month=month,
                facility_code=facility.facility_code,
                beds=facility.beds,
                bed_days_used=bed_days,
                outpatient_visits=round(facility.beds * rng.uniform(40, 70) * winter),
                inpatient_admissions=round(bed_days / rng.uniform(6.5, 9.5)),
                submitted_on=submitted,
                compiled_on=compiled,
                file_name=report_name("facility", month),
            )
            if (month, facility.facility_code) == late_caught_up:
                caught_up.append(replace(report, submitted_on=dt.date(2023, 8, 21)))
            elif (month, facility.facility_code) not in silent:
                reports.append(report)
    originals = [r for r in reports if r.report_month == CORRECTED_MONTH]
    fixed = {originals[3].facility_code, originals[20].facility_code}
    for report in originals + caught_up:
        visits = report.outpatient_visits
        reports.append(
            replace(
                report,
                outpatient_visits=round(visits * 1.1) if report.facility_code in fixed else visits,
                compiled_on=CORRECTED_ON,
                file_name=report_name("facility", CORRECTED_MONTH, corrected=True),
            )
        )
    return reports


def _stock_reports(rng: random.Random, facilities: list[Facility]) -> list[StockReport]:
    stock: list[StockReport] = []
    for facility in facilities:
        for medicine in MEDICINES:
            demand = facility.beds / 100 * medicine.demand_per_100_beds
            on_hand = round(demand * rng.uniform(1.5, 3.0))
            phase = rng.randrange(3)
            for index, month in enumerate(months()):
                delivery_due = index % 3 == phase
                received = round(demand * 3 * rng.uniform(0.7, 1.2)) if delivery_due else 0
                if rng.random() < 0.05:  # a delivery held up at the central warehouse
                    received = 0
                wanted = round(demand * rng.uniform(0.8, 1.2))
                consumed = min(on_hand + received, wanted)
                closing = on_hand + received - consumed
                stock.append(
                    StockReport(
                        report_month=month,
                        facility_code=facility.facility_code,
                        medicine_code=medicine.medicine_code,
                        opening_stock=on_hand,
                        received=received,
                        consumed=consumed,
                        closing_stock=closing,
                        compiled_on=_next_month(month) + dt.timedelta(days=10),
                        file_name=report_name("stock", month),
                    )
                )
                on_hand = closing
    return stock


def generate(seed: int = DEFAULT_SEED) -> MedicineSystem:
    """Every report and file the statistics centre sends over the simulated period."""
    rng = random.Random(seed)
    facilities = _facilities(rng)
    facility_reports = _facility_reports(rng, facilities)
    stock_reports = _stock_reports(rng, facilities)
    return MedicineSystem(
        facilities=facilities,
        medicines=list(MEDICINES),
        facility_reports=facility_reports,
        stock_reports=stock_reports,
        files=inbox_files(facilities, facility_reports, stock_reports),
    )


def simulate(
    paths: MaglumatPaths, as_of: dt.datetime = DEFAULT_AS_OF, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Bring the demo inbox to ``as_of``: the workbooks sent since the last call, per table."""
    return deliver(inbox_of(paths.systems, SYSTEM), generate(seed).files, as_of)
