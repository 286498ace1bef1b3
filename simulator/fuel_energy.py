"""The fuel and energy complex's daily production dispatch, simulated (``fuel_energy_production``).

Every morning the dispatch centre sends the previous day's production of natural gas and gas
condensate (Türkmengaz fields), crude oil and associated gas (Türkmennebit fields) and
electricity (the Ministry of Energy's power stations) as a CSV file dropped into the
warehouse's inbox, one file per day; the year's monthly plans, the enterprise register and the
product classifier come the same way. Magnitudes follow the published ones: some 79 bcm of gas,
10 Mt of oil and 28 TWh of electricity a year.

The mess of the real thing:

* the centre replaced its old system on 1 March 2023. The old one exported Windows-1251 with
  ``;`` separators, decimal commas, digit groups and Russian headers, dates as ``dd.mm.yyyy``
  and local times; the new one exports UTF-8 with ``,``, Turkmen headers and ISO times;
* when it was connected to the warehouse (1 September 2023) it handed over its archive as one
  file per month, the new system's months saved through Excel (UTF-8 with a BOM); since then it
  sends one file per day;
* the old system kept corrected transmissions beside the originals; since September a corrected
  day is sent again whole (``fek_<day>_duzedis.csv``, edited in Excel, so with a BOM);
* one day's file arrives three days late; Balkan DES sent nothing for three days in August 2022
  (a communication outage never caught up);
* the 2023 plan is revised in September for the fourth quarter (version 2 rows only).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from maglumat.clock import LOCAL_TIMEZONE
from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from simulator.fuel_energy_files import inbox_files
from simulator.fuel_energy_records import (
    CONDENSATE,
    ENTERPRISES,
    FIRST_DAY,
    GAS,
    GROWTH,
    LAST_DAY,
    POWER,
    PRODUCTS,
    DailyRecord,
    Enterprise,
    PlanRecord,
    Product,
)
from simulator.inbox import InboxFile, deliver, inbox_of

SYSTEM = "fuel_energy_production"
ASHGABAT = LOCAL_TIMEZONE
DAILY_FILES_FROM = dt.date(2023, 9, 1)
LATE_DAY = dt.date(2023, 9, 17)
RESENT_DAYS = (dt.date(2023, 9, 12), dt.date(2023, 9, 25))
OUTAGE = ("ENR-BLK", dt.date(2022, 8, 10), dt.date(2022, 8, 12))


@dataclass(frozen=True)
class FuelEnergySystem:
    enterprises: list[Enterprise]
    products: list[Product]
    daily: list[DailyRecord]
    plans: list[PlanRecord]
    files: list[InboxFile]

    def delivered(self, as_of: dt.datetime) -> set[str]:
        """Names of the files that have arrived by ``as_of``."""
        return {f.name for f in self.files if f.arrives_at <= as_of}


def _season(product: str, day: dt.date) -> float:
    """Gas peaks in winter; power in winter and in the summer heat; oil is flat."""
    angle = 2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25
    if product in (GAS, CONDENSATE):
        return 1 + 0.10 * math.cos(angle)
    if product == POWER:
        return 1 + 0.18 * math.cos(2 * angle)
    return 1.0


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _year_shares(product: str, year: int) -> list[float]:
    """Each month's share of the year's output, from the seasonal curve."""
    totals = [0.0] * 12
    for day in _days(dt.date(year, 1, 1), dt.date(year, 12, 31)):
        totals[day.month - 1] += _season(product, day)
    return [total / sum(totals) for total in totals]


def _annual(quantity: float, product: str, year: int) -> float:
    return quantity * GROWTH[product] ** (year - 2022)


def _file_of(day: dt.date) -> str:
    if day < DAILY_FILES_FROM:
        return f"fek_arhiw_{day:%Y-%m}.csv"
    return f"fek_{day:%Y-%m-%d}.csv"


def _daily_records(rng: random.Random) -> list[DailyRecord]:
    maintenance = {
        (enterprise.enterprise_code, year): dt.date(year, rng.randint(3, 10), rng.randint(1, 20))
        for enterprise in ENTERPRISES
        for year in (2022, 2023)
    }
    records: list[DailyRecord] = []
    for day in _days(FIRST_DAY, LAST_DAY):
        sent = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8, 0), tzinfo=ASHGABAT)
        sent += dt.timedelta(minutes=rng.randint(0, 90))
        if day == LATE_DAY:
            sent += dt.timedelta(days=3)
        for enterprise in ENTERPRISES:
            code = enterprise.enterprise_code
            if code == OUTAGE[0] and OUTAGE[1] <= day <= OUTAGE[2]:
                continue
            start = maintenance[(code, day.year)]
            length = 7 if enterprise.enterprise_type == "power_station" else 3
            stopped = start <= day < start + dt.timedelta(days=length)
            for product, quantity in enterprise.annual:
                yearly = _annual(quantity, product, day.year)
                value = yearly / 365.25 * _season(product, day) * rng.uniform(0.96, 1.04)
                if stopped:
                    value *= 0.35 if product == POWER else 0.6
                record = DailyRecord(
                    report_date=day,
                    enterprise_code=code,
                    product_code=product,
                    quantity=round(value, 1),
                    transmitted_at=sent,
                    file_name=_file_of(day),
                )
                records.append(record)
                # The old system kept a corrected transmission beside the original.
                if day < DAILY_FILES_FROM and rng.random() < 0.004:
                    later = sent + dt.timedelta(days=rng.randint(1, 3), hours=rng.randint(1, 6))
                    records.append(
                        DailyRecord(
                            report_date=day,
                            enterprise_code=code,
                            product_code=product,
                            quantity=round(value * rng.uniform(0.9, 1.1), 1),
                            transmitted_at=later,
                            file_name=record.file_name,
                        )
                    )
    for day in RESENT_DAYS:  # a whole day sent again with two figures corrected
        resent_at = next(r.transmitted_at for r in records if r.report_date == day)
        resent_at += dt.timedelta(days=2, hours=3)
        originals = [r for r in records if r.report_date == day]
        changed = {rng.randrange(len(originals)) for _ in range(2)}
        for index, original in enumerate(originals):
            factor = rng.uniform(0.85, 0.95) if index in changed else 1.0
            records.append(
                DailyRecord(
                    report_date=day,
                    enterprise_code=original.enterprise_code,
                    product_code=original.product_code,
                    quantity=round(original.quantity * factor, 1),
                    transmitted_at=resent_at,
                    file_name=f"fek_{day:%Y-%m-%d}_duzedis.csv",
                )
            )
    return records


def _plans(rng: random.Random) -> list[PlanRecord]:
    plans: list[PlanRecord] = []
    for year in (2022, 2023, 2024):
        approved = dt.date(year - 1, 12, 15)
        for enterprise in ENTERPRISES:
            for product, quantity in enterprise.annual:
                yearly = _annual(quantity, product, year) * rng.uniform(0.99, 1.03)
                for month, share in enumerate(_year_shares(product, year), start=1):
                    plans.append(
                        PlanRecord(
                            plan_year=year,
                            plan_month=month,
                            enterprise_code=enterprise.enterprise_code,
                            product_code=product,
                            planned_quantity=round(yearly * share, -1),
                            version=1,
                            approved_on=approved,
                            file_name=f"fek_meyilnama_{year}.csv",
                        )
                    )
    # September 2023: the fourth quarter's plan is revised for Mary DES and Galkynyş.
    revised = [
        PlanRecord(
            plan_year=plan.plan_year,
            plan_month=plan.plan_month,
            enterprise_code=plan.enterprise_code,
            product_code=plan.product_code,
            planned_quantity=round(
                plan.planned_quantity * (1.05 if plan.product_code == POWER else 0.97), -1
            ),
            version=2,
            approved_on=dt.date(2023, 9, 14),
            file_name="fek_meyilnama_2023_v2.csv",
        )
        for plan in plans
        if plan.plan_year == 2023
        and plan.plan_month >= 10
        and plan.enterprise_code in ("ENR-MRY", "TGZ-GLK")
    ]
    return plans + revised


def generate(seed: int = DEFAULT_SEED) -> FuelEnergySystem:
    """Every record and file the dispatch centre sends over the simulated period."""
    rng = random.Random(seed)
    daily = _daily_records(rng)
    plans = _plans(rng)
    return FuelEnergySystem(
        enterprises=list(ENTERPRISES),
        products=list(PRODUCTS),
        daily=daily,
        plans=plans,
        files=inbox_files(daily, plans),
    )


def simulate(
    paths: MaglumatPaths, as_of: dt.datetime = DEFAULT_AS_OF, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Bring the demo inbox to ``as_of``: the files sent since the last call, per table."""
    return deliver(inbox_of(paths.systems, SYSTEM), generate(seed).files, as_of)
