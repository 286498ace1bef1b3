"""The health ministry's workbooks as the statistics centre sends them to the inbox: the
monthly facility and medicine stock reports (titled, merged headers, totals) and the registers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from simulator.inbox import Form, Header, InboxFile, xlsx_bytes
from simulator.medicine_records import MEDICINES, Facility, FacilityReport, StockReport

UTC = dt.UTC
REGISTERS_AT = dt.datetime(2022, 1, 20, 5, 0, tzinfo=UTC)
MINISTRY = "Türkmenistanyň Saglygy goraýyş we derman senagaty ministrligi"


def _facility_form(reports: Sequence[FacilityReport], facilities: dict[str, Facility]) -> bytes:
    month, compiled = reports[0].report_month, reports[0].compiled_on
    rows = [
        (
            r.facility_code,
            facilities[r.facility_code].name_tk,
            r.beds,
            r.bed_days_used,
            r.outpatient_visits,
            r.inpatient_admissions,
            r.submitted_on,
        )
        for r in sorted(reports, key=lambda r: r.facility_code)
    ]
    return xlsx_bytes(
        [
            Form(
                sheet="Hasabat",
                title=(
                    MINISTRY,
                    "Lukmançylyk edaralarynyň işi barada aýlyk hasabat",
                    f"Hasabat döwri: {month:%Y-%m}",
                    f"Düzülen senesi: {compiled:%d.%m.%Y}",
                    "",
                ),
                header=(
                    Header("Edaranyň kody"),
                    Header("Edaranyň ady"),
                    Header("Düşekler", ("sany", "ulanylan düşek-günler")),
                    Header("Kabul edilenler", ("ambulator gatnaw", "stasionar")),
                    Header("Hasabat tabşyrylan senesi"),
                ),
                rows=rows,
                totals=(2, 3, 4, 5),
                footer=("Statistika bölüminiň müdiri: ____________",),
                widths=(10, 44, 8, 12, 12, 12, 14),
            )
        ]
    )


def _stock_form(reports: Sequence[StockReport]) -> bytes:
    medicines = {medicine.medicine_code: medicine for medicine in MEDICINES}
    month, compiled = reports[0].report_month, reports[0].compiled_on
    rows = [
        (
            r.facility_code,
            r.medicine_code,
            medicines[r.medicine_code].name_tk,
            medicines[r.medicine_code].unit,
            r.opening_stock,
            r.received,
            r.consumed,
            r.closing_stock,
        )
        for r in sorted(reports, key=lambda r: (r.facility_code, r.medicine_code))
    ]
    return xlsx_bytes(
        [
            Form(
                sheet="Galyndy",
                title=(
                    MINISTRY,
                    "Derman serişdeleriniň hereketi we galyndysy barada aýlyk hasabat",
                    f"Hasabat döwri: {month:%Y-%m}",
                    f"Düzülen senesi: {compiled:%d.%m.%Y}",
                    "",
                ),
                header=(
                    Header("Edaranyň kody"),
                    Header("Dermanyň kody"),
                    Header("Dermanyň ady"),
                    Header("Ölçeg birligi"),
                    Header(
                        "Mukdary",
                        ("aýyň başyna galyndy", "gelen", "sarp edilen", "aýyň ahyryna galyndy"),
                    ),
                ),
                rows=rows,
                merge_down=(0,),
                widths=(10, 10, 34, 10, 12, 10, 12, 12),
            )
        ]
    )


def _register(sheet: str, title: str, header: Sequence[str], rows: Sequence[Sequence]) -> bytes:
    return xlsx_bytes(
        [
            Form(
                sheet=sheet,
                title=(title, ""),
                header=tuple(Header(label) for label in header),
                rows=rows,
            )
        ]
    )


def inbox_files(
    facilities: Sequence[Facility],
    facility_reports: Sequence[FacilityReport],
    stock_reports: Sequence[StockReport],
) -> list[InboxFile]:
    """The registers' workbooks and each month's report workbooks, with their arrivals."""
    by_code = {facility.facility_code: facility for facility in facilities}
    files = [
        InboxFile(
            "saglyk_edaralar.xlsx",
            "facilities",
            REGISTERS_AT,
            lambda: _register(
                "Edaralar",
                f"{MINISTRY}: lukmançylyk edaralary",
                ("Edaranyň kody", "Ady (türkmençe)", "Ady (rusça)", "Görnüşi", "Welaýat", "Etrap"),
                [
                    (
                        f.facility_code,
                        f.name_tk,
                        f.name_ru,
                        f.facility_type,
                        f.province_code,
                        f.district_code,
                    )
                    for f in facilities
                ],
            ),
        ),
        InboxFile(
            "saglyk_dermanlar.xlsx",
            "medicines",
            REGISTERS_AT,
            lambda: _register(
                "Dermanlar",
                f"{MINISTRY}: derman serişdeleriniň klassifikatory",
                (
                    "Dermanyň kody",
                    "Ady (türkmençe)",
                    "Ady (rusça)",
                    "Ady (iňlisçe)",
                    "Ölçeg birligi",
                    "Möhüm derman",
                ),
                [
                    (
                        m.medicine_code,
                        m.name_tk,
                        m.name_ru,
                        m.name_en,
                        m.unit,
                        "hawa" if m.is_essential else "ýok",
                    )
                    for m in MEDICINES
                ],
            ),
        ),
    ]
    by_file: dict[str, list] = {}
    for report in [*facility_reports, *stock_reports]:
        by_file.setdefault(report.file_name, []).append(report)
    for name, reports in sorted(by_file.items()):
        arrives = dt.datetime.combine(reports[0].compiled_on, dt.time(7, 30), tzinfo=UTC)
        if isinstance(reports[0], FacilityReport):
            files.append(
                InboxFile(
                    name,
                    "facility_reports",
                    arrives,
                    lambda reports=reports: _facility_form(reports, by_code),
                )
            )
        else:
            arrives += dt.timedelta(hours=2)
            files.append(
                InboxFile(
                    name, "medicine_stock", arrives, lambda reports=reports: _stock_form(reports)
                )
            )
    return files
