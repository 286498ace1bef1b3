"""The processing industry's output register, simulated (system ``processing_output``).

Cotton gins, flour mills and food plants (vegetable oil, canned food, dairy) enter each day's
output by product the next morning; the ministry enters the monthly plan for the year in
December and revises it in summer. The register is a plain relational database (SQLite in the
demo, MariaDB in the tests). Magnitudes follow the country: gins process some 1.1 Mt of raw
cotton a season (September to February), mills some 0.7 Mt of flour a year, oil plants some
60 kt of cottonseed oil. The mess of the real thing: entries made days late, corrections
entered as new rows that point at the row they correct, a plant whose entries for two weeks were
never made (an outage at the plant), a plant renamed and a cannery opened during the period.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass, replace

from maglumat.clock import LOCAL_TIMEZONE
from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from simulator.processing_records import (
    CAPACITY,
    PLANTS,
    PRODUCTS,
    REGISTER_OPENED,
    DailyOutput,
    MonthlyPlan,
    Plant,
    Product,
)
from simulator.sql_database import SqlTable, demo_connection, local_moment, timestamp, write_tables
from simulator.working_calendar import public_holidays

SYSTEM = "processing_output"
ASHGABAT = LOCAL_TIMEZONE
FIRST_DAY = dt.date(2022, 1, 1)
LAST_DAY = dt.date(2023, 12, 31)


@dataclass(frozen=True)
class ProcessingSystem:
    plants: list[Plant]
    products: list[Product]
    monthly_plans: list[MonthlyPlan]
    daily_output: list[DailyOutput]

    def tables(self) -> list[SqlTable]:
        return [
            SqlTable("plants", Plant, "plant_code", "updated_at", self.plants),
            SqlTable("products", Product, "product_code", "updated_at", self.products),
            SqlTable("monthly_plans", MonthlyPlan, "plan_id", "updated_at", self.monthly_plans),
            SqlTable("daily_output", DailyOutput, "record_id", "entered_at", self.daily_output),
        ]


RENAMED = ("SZ-01", "Aşgabat süýt we süýt önümleri kärhanasy", "2023-04-10 06:00:00")
OPENED = ("KZ-04", dt.date(2023, 5, 2))  # a new cannery, in the register from this day
OUTAGE = ("YZ-03", dt.date(2023, 3, 6), dt.date(2023, 3, 19))  # entries never made


def _operates(plant_type: str, product_code: str, day: dt.date) -> bool:
    """Whether a plant of this type makes this product on this day (seasons, stops)."""
    month = day.month
    if plant_type == "cotton_gin":
        return (month >= 9 and (month > 9 or day.day >= 10)) or month <= 2
    if plant_type == "flour_mill":
        return day not in public_holidays() and not (month == 7 and day.day <= 10)
    if plant_type == "vegetable_oil":
        return month not in (7, 8, 9)  # repairs between seed stocks
    if plant_type == "cannery":
        if product_code == "402":
            return 8 <= month <= 10
        return 6 <= month <= 11 and day.weekday() != 6
    return True  # dairies take milk every day


def _seasonal(plant_type: str, day: dt.date) -> float:
    if plant_type == "dairy":  # milk yields peak in spring and early summer
        return {3: 1.1, 4: 1.25, 5: 1.3, 6: 1.2, 7: 1.05, 12: 0.85, 1: 0.8, 2: 0.9}.get(
            day.month, 1.0
        )
    if plant_type == "cotton_gin":  # ramp up as the harvest comes in, tail off in winter
        return {9: 0.7, 10: 1.15, 11: 1.2, 12: 1.0, 1: 0.85, 2: 0.6}.get(day.month, 1.0)
    return 1.0


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _plants(rng: random.Random) -> list[Plant]:
    plants: list[Plant] = []
    for code, name, plant_type, owner, district in PLANTS:
        low, high = CAPACITY[plant_type]
        updated = REGISTER_OPENED
        if code == OPENED[0]:
            updated = timestamp(local_moment(OPENED[1], 9.5))
        plant = Plant(
            plant_code=code,
            plant_name=name,
            plant_type=plant_type,
            owner=owner,
            district_code=district,
            capacity_tonnes_per_day=round(rng.uniform(low, high) * 1.15, 0),
            commissioned_on=(
                OPENED[1].isoformat()
                if code == OPENED[0]
                else dt.date(rng.randint(1968, 2012), rng.randint(1, 12), 1).isoformat()
            ),
            is_active=1,
            updated_at=updated,
        )
        plants.append(plant)
        if code == RENAMED[0]:
            plants.append(replace(plant, plant_name=RENAMED[1], updated_at=RENAMED[2]))
    return plants


def _products() -> list[Product]:
    return [
        Product(code, tk, ru, en, "tonnes", group, REGISTER_OPENED)
        for code, tk, ru, en, group, _, _ in PRODUCTS
    ]


def generate(seed: int = DEFAULT_SEED) -> ProcessingSystem:
    """Every record the register will hold from January 2022 to December 2023."""
    rng = random.Random(seed)
    plants = _plants(rng)
    latest_plants = {plant.plant_code: plant for plant in plants}
    products_by_type: dict[str, list[tuple[str, float]]] = {}
    for code, *_, plant_type, product_yield in PRODUCTS:
        products_by_type.setdefault(plant_type, []).append((code, product_yield))

    plans: list[MonthlyPlan] = []
    drafts: list[DailyOutput] = []
    corrections: list[tuple[DailyOutput, DailyOutput]] = []  # (original, correction)
    for plant in latest_plants.values():
        throughput = plant.capacity_tonnes_per_day / 1.15  # plants plan below nameplate
        first_day = max(FIRST_DAY, dt.date.fromisoformat(plant.commissioned_on))
        for year in (2022, 2023):
            fulfilment = rng.uniform(0.9, 1.06)
            revision = rng.uniform(0.92, 1.1)
            for month in range(1, 13):
                last = calendar.monthrange(year, month)[1]
                month_days = [
                    day
                    for day in _days(dt.date(year, month, 1), dt.date(year, month, last))
                    if day >= first_day
                ]
                for product_code, product_yield in products_by_type[plant.plant_type]:
                    working = [
                        d for d in month_days if _operates(plant.plant_type, product_code, d)
                    ]
                    if not working:
                        continue
                    plan = sum(
                        throughput * product_yield * _seasonal(plant.plant_type, d) for d in working
                    )
                    approved = dt.date(year - 1, 12, 20)
                    if plant.plant_code == OPENED[0]:
                        approved = OPENED[1]
                    plans.append(
                        MonthlyPlan(
                            plan_id=0,
                            plan_year=year,
                            plan_month=month,
                            plant_code=plant.plant_code,
                            product_code=product_code,
                            plan_tonnes=round(plan, 0),
                            version=1,
                            approved_on=approved.isoformat(),
                            updated_at=timestamp(local_moment(approved, 11)),
                        )
                    )
                    # Summer revision of the second half-year, once the harvest is known.
                    revised = (year == 2022 and plant.plant_type == "flour_mill") or (
                        year == 2023 and plant.plant_type == "cotton_gin"
                    )
                    if revised and month >= 8:
                        approved_v2 = dt.date(year, 7, 8)
                        plans.append(
                            replace(
                                plans[-1],
                                plan_tonnes=round(plan * revision, 0),
                                version=2,
                                approved_on=approved_v2.isoformat(),
                                updated_at=timestamp(local_moment(approved_v2, 15)),
                            )
                        )
            for day in _days(dt.date(year, 1, 1), dt.date(year, 12, 31)):
                if day < first_day:
                    continue
                if plant.plant_code == OUTAGE[0] and OUTAGE[1] <= day <= OUTAGE[2]:
                    continue
                load = rng.uniform(0.82, 1.14) * fulfilment * _seasonal(plant.plant_type, day)
                delay = 1 if rng.random() > 0.04 else rng.randint(2, 6)
                entered = local_moment(day + dt.timedelta(days=delay), rng.uniform(8, 11.5))
                for product_code, product_yield in products_by_type[plant.plant_type]:
                    if not _operates(plant.plant_type, product_code, day):
                        continue
                    record = DailyOutput(
                        record_id=0,
                        plant_code=plant.plant_code,
                        product_code=product_code,
                        output_date=day.isoformat(),
                        quantity_tonnes=round(throughput * product_yield * load, 1),
                        corrects_record_id=None,
                        entered_by=f"{plant.plant_code.lower()}.hasapçy",
                        entered_at=timestamp(entered),
                    )
                    drafts.append(record)
                    if rng.random() < 0.02:  # the plant corrects the figure days later
                        corrected_at = entered + dt.timedelta(
                            days=rng.randint(1, 10), hours=rng.uniform(0, 6)
                        )
                        correction = replace(
                            record,
                            quantity_tonnes=round(
                                record.quantity_tonnes * rng.uniform(0.88, 1.1), 1
                            ),
                            entered_by="ministrlik.operator",
                            entered_at=timestamp(corrected_at),
                        )
                        corrections.append((record, correction))
    plans.sort(
        key=lambda p: (p.updated_at, p.plant_code, p.product_code, p.plan_year, p.plan_month)
    )
    numbered_plans = [replace(p, plan_id=n) for n, p in enumerate(plans, start=1)]
    # Ids follow the order rows were entered, as the register's sequence hands them out.
    correcting = {id(correction): original for original, correction in corrections}
    entered = sorted(
        drafts + [correction for _, correction in corrections],
        key=lambda r: (r.entered_at, r.plant_code, r.output_date, r.product_code),
    )
    ids = {id(record): n for n, record in enumerate(entered, start=1)}
    numbered = [
        replace(
            record,
            record_id=ids[id(record)],
            corrects_record_id=(
                ids[id(correcting[id(record)])] if id(record) in correcting else None
            ),
        )
        for record in entered
    ]
    return ProcessingSystem(
        plants=plants,
        products=_products(),
        monthly_plans=numbered_plans,
        daily_output=numbered,
    )


def visible_at(system: ProcessingSystem, as_of: dt.datetime) -> ProcessingSystem:
    """What the register holds at ``as_of``: records entered by then, latest version of a row."""
    cutoff = timestamp(as_of)
    plants: dict[str, Plant] = {}
    for plant in system.plants:
        if plant.updated_at <= cutoff:
            plants[plant.plant_code] = plant
    return ProcessingSystem(
        plants=list(plants.values()),
        products=[p for p in system.products if p.updated_at <= cutoff],
        monthly_plans=[p for p in system.monthly_plans if p.updated_at <= cutoff],
        daily_output=[r for r in system.daily_output if r.entered_at <= cutoff],
    )


def write(dsn: str, system: ProcessingSystem, as_of: dt.datetime) -> dict[str, int]:
    """Bring the register at ``dsn`` to its state at ``as_of``; rows added or updated per table."""
    return write_tables(dsn, system.tables(), as_of)


def simulate(
    paths: MaglumatPaths, as_of: dt.datetime = DEFAULT_AS_OF, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Bring the demo's register (SQLite under ``<MAGLUMAT_HOME>/systems``) to ``as_of``."""
    paths.systems.mkdir(parents=True, exist_ok=True)
    return write(demo_connection(SYSTEM, paths), generate(seed), as_of)
