"""The processing industry's output register, simulated (system ``processing_output``).

Cotton gins, flour mills and food plants (vegetable oil, canned food, dairy) enter each day's
output by product the next morning; the ministry enters the monthly plan for the year in
December and revises it in summer. The register is a plain relational database (SQLite in the
demo, MariaDB in the tests). Magnitudes follow the country: gins process some 1.1 Mt of raw
cotton a season (September to February), mills some 0.7 Mt of flour a year, oil plants some
60 kt of cottonseed oil. The mess of the real thing: entries made days late, corrections
entered as new rows that point at the row they correct, a plant whose entries for two weeks were
never made (an outage at the plant), a plant renamed and a cannery opened during the period.

This module also holds ``write_tables``, which brings any simulated SQL database to its state
at a moment; the construction and livestock simulators use it too.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import types
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields, replace
from typing import Any, Union, get_args, get_origin, get_type_hints

from maglumat.catalogue import load_catalogue
from maglumat.clock import LOCAL_TIMEZONE
from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from pipelines.extract.dbapi import connect
from simulator.working_calendar import public_holidays

SYSTEM = "processing_output"
UTC = dt.UTC
ASHGABAT = LOCAL_TIMEZONE
FIRST_DAY = dt.date(2022, 1, 1)
LAST_DAY = dt.date(2023, 12, 31)


# --- bringing a simulated SQL database to its state at a moment ---------------------------


@dataclass(frozen=True)
class SqlTable:
    """One table of a simulated database and every version of every row it will ever hold.

    A row exists once its ``version_column`` (when it was entered) is at or before the moment;
    several records with the same primary key are successive versions of a row that the system
    updates in place (the latest entered by then is what the database holds).
    """

    name: str
    record_type: type
    primary_key: str
    version_column: str
    records: Sequence[Any]
    # Typed by name otherwise: ``*_at`` timestamps; ``*_date``, ``*_on``, ``*_month`` dates.
    timestamp_columns: tuple[str, ...] = ()
    date_columns: tuple[str, ...] = ()

    def column_type(self, dialect: str, name: str, python_type: type) -> str:
        if dialect == "sqlite":
            return {int: "INTEGER", float: "REAL", str: "TEXT"}[python_type]
        if name.endswith("_at") or name in self.timestamp_columns:
            return "datetime" if dialect == "mysql" else "timestamp"
        if python_type is str and (
            name.endswith(("_date", "_on", "_month")) or name in self.date_columns
        ):
            return "date"
        if python_type is float:
            return "double" if dialect == "mysql" else "double precision"
        return {int: "bigint", str: "varchar(300)"}[python_type]


def timestamp(value: dt.datetime) -> str:
    """A moment as the simulated systems store it: UTC, to the second."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def local_moment(day: dt.date, hour: float) -> dt.datetime:
    """``hour`` hours after midnight of ``day`` in Aşgabat."""
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=ASHGABAT)
    return midnight + dt.timedelta(seconds=round(hour * 3600))


def _python_type(hint: Any) -> type:
    if get_origin(hint) in (Union, types.UnionType):
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    return hint


def _stored_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def write_tables(dsn: str, tables: Sequence[SqlTable], as_of: dt.datetime) -> dict[str, int]:
    """Bring the database at ``dsn`` to its state at ``as_of``; rows inserted or updated per table.

    Rows entered since the last call are inserted, rows updated since are updated in place, so
    calling this again with a later ``as_of`` changes only what was entered in between, and the
    system's own cursor columns never go backwards.
    """
    cutoff = timestamp(as_of)
    connection, dialect = connect(dsn)
    changed: dict[str, int] = {}
    try:
        cursor = connection.cursor()
        for table in tables:
            names = [column.name for column in fields(table.record_type)]
            hints = get_type_hints(table.record_type)
            definition = ", ".join(
                f"{name} {table.column_type(dialect.name, name, _python_type(hints[name]))}"
                + (" primary key" if name == table.primary_key else "")
                for name in names
            )
            # Names come from the simulator's own dataclasses, never from input.
            cursor.execute(f"create table if not exists {table.name} ({definition})")
            cursor.execute(f"select {table.primary_key}, {table.version_column} from {table.name}")  # noqa: S608
            present = {key: _stored_text(version) for key, version in cursor.fetchall()}
            visible: dict[Any, Any] = {}
            for record in table.records:
                if getattr(record, table.version_column) <= cutoff:
                    visible[getattr(record, table.primary_key)] = record  # later versions win
            inserts = [astuple(r) for key, r in visible.items() if key not in present]
            updates = [
                r
                for key, r in visible.items()
                if key in present and present[key] < getattr(r, table.version_column)
            ]
            if inserts:
                placeholders = ", ".join([dialect.placeholder] * len(names))
                cursor.executemany(
                    f"insert into {table.name} ({', '.join(names)}) values ({placeholders})",  # noqa: S608
                    inserts,
                )
            if updates:
                others = [name for name in names if name != table.primary_key]
                assignments = ", ".join(f"{name} = {dialect.placeholder}" for name in others)
                cursor.executemany(
                    f"update {table.name} set {assignments}"  # noqa: S608
                    f" where {table.primary_key} = {dialect.placeholder}",
                    [
                        [getattr(r, name) for name in others] + [getattr(r, table.primary_key)]
                        for r in updates
                    ],
                )
            changed[table.name] = len(inserts) + len(updates)
        connection.commit()
    finally:
        connection.close()
    return changed


def demo_connection(system_name: str, paths: MaglumatPaths) -> str:
    """Where the demo's simulated system lives (the catalogue's ``demo_default``)."""
    system = next(s for s in load_catalogue() if s.name == system_name)
    if system.demo_connection is None:
        raise ValueError(f"{system_name} has no demo_default connection in the catalogue")
    return system.demo_connection.format(systems=paths.systems)


# --- the processing output register -------------------------------------------------------


@dataclass(frozen=True)
class Plant:
    plant_code: str
    plant_name: str
    plant_type: str
    owner: str
    district_code: str
    capacity_tonnes_per_day: float  # raw material processed: raw cotton, wheat, seed, milk ...
    commissioned_on: str
    is_active: int
    updated_at: str


@dataclass(frozen=True)
class Product:
    product_code: str
    product_name_tk: str
    product_name_ru: str
    product_name_en: str
    unit: str
    product_group: str
    updated_at: str


@dataclass(frozen=True)
class MonthlyPlan:
    plan_id: int
    plan_year: int
    plan_month: int
    plant_code: str
    product_code: str
    plan_tonnes: float
    version: int
    approved_on: str
    updated_at: str


@dataclass(frozen=True)
class DailyOutput:
    record_id: int
    plant_code: str
    product_code: str
    output_date: str
    quantity_tonnes: float
    corrects_record_id: int | None
    entered_by: str
    entered_at: str


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


GINS = "Ministry of Agriculture"
MILLS = "Türkmengallaönümleri State Association"
FOOD = "Ministry of Industry and Construction Production"
REGISTER_OPENED = "2021-12-01 05:00:00"

# plant code, name, type, owner, district
PLANTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("PZ-01", "Tejen pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-A-09"),
    ("PZ-02", "Babadaýhan pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-A-03"),
    ("PZ-03", "Sarahs pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-A-08"),
    ("PZ-04", "Baýramaly pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-M-01"),
    ("PZ-05", "Murgap pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-M-04"),
    ("PZ-06", "Sakarçäge pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-M-06"),
    ("PZ-07", "Ýolöten pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-M-11"),
    ("PZ-08", "Döwletli pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-L-04"),
    ("PZ-09", "Halaç pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-L-09"),
    ("PZ-10", "Saýat pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-L-14"),
    ("PZ-11", "Garabekewül pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-L-07"),
    ("PZ-12", "Köneürgenç pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-D-02"),
    ("PZ-13", "Görogly pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-D-05"),
    ("PZ-14", "Boldumsaz pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-D-04"),
    ("PZ-15", "Serdar pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-B-05"),
    ("UZ-01", "Aşgabat un önümleri kärhanasy", "flour_mill", MILLS, "TM-S-03"),
    ("UZ-02", "Gökdepe dökün kärhanasy", "flour_mill", MILLS, "TM-A-05"),
    ("UZ-03", "Tejen dökün kärhanasy", "flour_mill", MILLS, "TM-A-09"),
    ("UZ-04", "Kaka dökün kärhanasy", "flour_mill", MILLS, "TM-A-06"),
    ("UZ-05", "Mary un önümleri kärhanasy", "flour_mill", MILLS, "TM-M-03"),
    ("UZ-06", "Baýramaly dökün kärhanasy", "flour_mill", MILLS, "TM-M-01"),
    ("UZ-07", "Serdarabat dökün kärhanasy", "flour_mill", MILLS, "TM-L-15"),
    ("UZ-08", "Halaç dökün kärhanasy", "flour_mill", MILLS, "TM-L-09"),
    ("UZ-09", "Daşoguz un önümleri kärhanasy", "flour_mill", MILLS, "TM-D-01"),
    ("UZ-10", "Köneürgenç dökün kärhanasy", "flour_mill", MILLS, "TM-D-02"),
    ("UZ-11", "Serdar dökün kärhanasy", "flour_mill", MILLS, "TM-B-05"),
    ("UZ-12", "Türkmenbaşy dökün kärhanasy", "flour_mill", MILLS, "TM-B-06"),
    ("YZ-01", "Mary ýag zawody", "vegetable_oil", FOOD, "TM-M-03"),
    ("YZ-02", "Serdarabat ýag-piý kombinaty", "vegetable_oil", FOOD, "TM-L-15"),
    ("YZ-03", "Daşoguz ýag zawody", "vegetable_oil", FOOD, "TM-D-01"),
    ("YZ-04", "Baýramaly ýag zawody", "vegetable_oil", FOOD, "TM-M-01"),
    ("KZ-01", "Tejen konserwa zawody", "cannery", FOOD, "TM-A-09"),
    ("KZ-02", "Farap miwe-gök önüm konserwa zawody", "cannery", FOOD, "TM-L-05"),
    ("KZ-03", "Görogly konserwa zawody", "cannery", FOOD, "TM-D-05"),
    ("KZ-04", "Murgap konserwa zawody", "cannery", FOOD, "TM-M-04"),
    ("SZ-01", "Aşgabat süýt önümleri kärhanasy", "dairy", FOOD, "TM-S-04"),
    ("SZ-02", "Mary süýt zawody", "dairy", FOOD, "TM-M-03"),
    ("SZ-03", "Daşoguz süýt zawody", "dairy", FOOD, "TM-D-01"),
    ("SZ-04", "Serdar süýt zawody", "dairy", FOOD, "TM-B-05"),
)
# Daily throughput of raw material (tonnes): raw cotton, wheat, cottonseed, fruit and
# vegetables, raw milk.
CAPACITY = {
    "cotton_gin": (380.0, 520.0),
    "flour_mill": (190.0, 290.0),
    "vegetable_oil": (260.0, 380.0),
    "cannery": (60.0, 110.0),
    "dairy": (45.0, 90.0),
}
# product code, names (tk, ru, en), group, plant type, yield per tonne of raw material
PRODUCTS: tuple[tuple[str, str, str, str, str, str, float], ...] = (
    ("101", "Pagta süýümi", "Хлопковое волокно", "Cotton fibre", "cotton", "cotton_gin", 0.335),
    ("102", "Çigit", "Хлопковые семена", "Cottonseed", "cotton", "cotton_gin", 0.56),
    ("201", "Bugdaý uny", "Мука пшеничная", "Wheat flour", "grain", "flour_mill", 0.73),
    ("202", "Kepek", "Отруби", "Wheat bran", "grain", "flour_mill", 0.22),
    ("301", "Pagta ýagy", "Хлопковое масло", "Cottonseed oil", "oil", "vegetable_oil", 0.165),
    ("302", "Şrot", "Шрот хлопковый", "Cottonseed meal", "oil", "vegetable_oil", 0.44),
    (
        "401",
        "Gök önüm konserwasy",
        "Овощные консервы",
        "Canned vegetables",
        "canned",
        "cannery",
        0.62,
    ),
    ("402", "Tomat pastasy", "Томатная паста", "Tomato paste", "canned", "cannery", 0.16),
    ("501", "Süýt", "Молоко питьевое", "Drinking milk", "dairy", "dairy", 0.74),
    ("502", "Sary ýag", "Масло сливочное", "Butter", "dairy", "dairy", 0.021),
    ("503", "Peýnir", "Сыр", "Cheese", "dairy", "dairy", 0.032),
)
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
