"""The dispatch centre's CSV files as they reach the inbox: the old system's format (until
March 2023) and the new one's, the plan files, the registers, and when each file arrives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from maglumat.clock import LOCAL_TIMEZONE
from simulator.fuel_energy_records import (
    ENTERPRISES,
    FIRST_DAY,
    PRODUCTS,
    DailyRecord,
    PlanRecord,
)
from simulator.inbox import InboxFile, csv_bytes

UTC = dt.UTC
ASHGABAT = LOCAL_TIMEZONE
NEW_SYSTEM_FROM = dt.date(2023, 3, 1)
CONNECTED_AT = dt.datetime(2023, 9, 1, 4, 0, tzinfo=UTC)  # 09:00 in Aşgabat
OLD_HEADER = ("Дата", "Код предприятия", "Код продукции", "Количество", "Время передачи")
NEW_HEADER = ("Sene", "Kärhananyň kody", "Önümiň kody", "Mukdary", "Iberilen wagty")
PLAN_HEADER = (
    "Ýyl",
    "Aý",
    "Kärhananyň kody",
    "Önümiň kody",
    "Meýilnama",
    "Wersiýa",
    "Tassyklanan senesi",
)
ENTERPRISE_HEADER = (
    "Kärhananyň kody",
    "Ady (türkmençe)",
    "Ady (rusça)",
    "Edara",
    "Görnüşi",
    "Welaýat",
    "Etrap",
)
PRODUCT_HEADER = ("Önümiň kody", "Ady (türkmençe)", "Ady (rusça)", "Ady (iňlisçe)", "Ölçeg birligi")


def _old_number(value: float) -> str:
    """As the old system wrote a quantity: digit groups with a space, a decimal comma."""
    return f"{value:,.1f}".replace(",", " ").replace(".", ",")


def _daily_file(name: str, records: Sequence[DailyRecord], old: bool, bom: bool) -> bytes:
    rows = sorted(
        records,
        key=lambda r: (r.report_date, r.transmitted_at, r.enterprise_code, r.product_code),
    )
    if old:
        return csv_bytes(
            OLD_HEADER,
            (
                (
                    f"{r.report_date:%d.%m.%Y}",
                    r.enterprise_code,
                    r.product_code,
                    _old_number(r.quantity),
                    f"{r.transmitted_at.astimezone(ASHGABAT):%d.%m.%Y %H:%M}",
                )
                for r in rows
            ),
            delimiter=";",
            encoding="cp1251",
        )
    return csv_bytes(
        NEW_HEADER,
        (
            (
                r.report_date.isoformat(),
                r.enterprise_code,
                r.product_code,
                f"{r.quantity:.1f}",
                r.transmitted_at.astimezone(ASHGABAT).isoformat(sep=" "),
            )
            for r in rows
        ),
        bom=bom,
        line_end="\n",
    )


def _plan_file(records: Sequence[PlanRecord]) -> bytes:
    return csv_bytes(
        PLAN_HEADER,
        (
            (
                r.plan_year,
                r.plan_month,
                r.enterprise_code,
                r.product_code,
                f"{r.planned_quantity:.0f}",
                r.version,
                r.approved_on.isoformat(),
            )
            for r in records
        ),
        line_end="\n",
    )


def inbox_files(daily: Sequence[DailyRecord], plans: Sequence[PlanRecord]) -> list[InboxFile]:
    """The registers' files, the daily and archive files and the plan files, with their
    arrivals."""
    by_file: dict[str, list[DailyRecord]] = {}
    for record in daily:
        by_file.setdefault(record.file_name, []).append(record)
    files = [
        InboxFile(
            "fek_karhanalar.csv",
            "enterprises",
            CONNECTED_AT - dt.timedelta(minutes=30),
            lambda: csv_bytes(
                ENTERPRISE_HEADER,
                (
                    (
                        e.enterprise_code,
                        e.name_tk,
                        e.name_ru,
                        e.organisation,
                        e.enterprise_type,
                        e.province_code,
                        e.district_code,
                    )
                    for e in ENTERPRISES
                ),
                line_end="\n",
            ),
        ),
        InboxFile(
            "fek_onumler.csv",
            "products",
            CONNECTED_AT - dt.timedelta(minutes=29),
            lambda: csv_bytes(
                PRODUCT_HEADER,
                ((p.product_code, p.name_tk, p.name_ru, p.name_en, p.unit) for p in PRODUCTS),
                line_end="\n",
            ),
        ),
    ]
    for name, records in sorted(by_file.items()):
        first = records[0].report_date
        if name.startswith("fek_arhiw_"):
            arrives = CONNECTED_AT + dt.timedelta(minutes=(first - FIRST_DAY).days // 28)
        else:
            arrives = max(r.transmitted_at for r in records) + dt.timedelta(minutes=5)
        old = first < NEW_SYSTEM_FROM
        bom = name.startswith("fek_arhiw_") or name.endswith("_duzedis.csv")
        files.append(
            InboxFile(
                name,
                "daily_production",
                arrives,
                lambda name=name, records=records, old=old, bom=bom: _daily_file(
                    name, records, old, bom
                ),
            )
        )
    plan_files: dict[str, list[PlanRecord]] = {}
    for plan in plans:
        plan_files.setdefault(plan.file_name, []).append(plan)
    for name, records in sorted(plan_files.items()):
        approved = records[0].approved_on
        arrives = max(
            CONNECTED_AT - dt.timedelta(minutes=20),
            dt.datetime.combine(approved + dt.timedelta(days=1), dt.time(5, 0), tzinfo=UTC),
        )
        files.append(
            InboxFile(name, "monthly_plans", arrives, lambda records=records: _plan_file(records))
        )
    return files
