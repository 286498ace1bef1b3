"""The Ministry of Agriculture's campaign database, simulated.

Provinces and districts come from the warehouse's own reference seeds; the state order per
province is the published one (``data/state_order_targets.csv``), spread over districts. Daily
progress reports follow each district's own pace and carry the mess of the real thing: reports
that arrive days late, districts that resubmit a corrected figure for an earlier day, and days
with no report (caught up the next day). The same records load into SQLite (the embedded
default), PostgreSQL or MariaDB.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import get_type_hints

from maglumat.demo import DEFAULT_SEED
from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths
from pipelines.extract.dbapi import connect

REFERENCE_DIR = DBT_PROJECT_DIR / "seeds" / "reference"
TARGETS_FILE = Path(__file__).parent / "data" / "state_order_targets.csv"
UTC = dt.UTC


@dataclass(frozen=True)
class Farm:
    farm_id: int
    district_code: str
    farm_name: str
    farm_type: str
    established_on: str


@dataclass(frozen=True)
class StateOrder:
    order_id: int
    order_year: int
    crop: str
    district_code: str
    plan_tonnes: float
    plan_area_ha: float
    version: int
    approved_on: str
    updated_at: str


@dataclass(frozen=True)
class DailyReport:
    report_id: int
    district_code: str
    crop: str
    operation: str
    report_date: str
    sown_ha: float
    harvested_ha: float
    harvested_tonnes: float
    reported_by: str
    submitted_at: str


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    crop: str
    operation: str
    order_year: int
    measure: str
    starts: dict[str, dt.date]  # by province
    planned_end: dict[str, dt.date]


@dataclass(frozen=True)
class CampaignSystem:
    farms: list[Farm]
    state_orders: list[StateOrder]
    daily_reports: list[DailyReport]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def agricultural_districts() -> list[dict[str, str]]:
    rows = _read_csv(REFERENCE_DIR / "ref_districts.csv")
    return [row for row in rows if row["is_agricultural"] == "true" and not row["valid_to"]]


def campaigns() -> list[Campaign]:
    by_id: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _read_csv(REFERENCE_DIR / "campaign_calendar.csv"):
        by_id[row["campaign_id"]].append(row)
    result = []
    for campaign_id, rows in by_id.items():
        first = rows[0]
        result.append(
            Campaign(
                campaign_id=campaign_id,
                crop=first["crop"],
                operation=first["operation"],
                order_year=int(first["order_year"]),
                measure=first["measure"],
                starts={r["province_code"]: dt.date.fromisoformat(r["start_date"]) for r in rows},
                planned_end={
                    r["province_code"]: dt.date.fromisoformat(r["planned_end_date"]) for r in rows
                },
            )
        )
    return result


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _split(total: float, weights: Sequence[float], step: float = 1.0) -> list[float]:
    """Split ``total`` in proportion to ``weights``, rounded to ``step``, summing exactly."""
    scale = sum(weights)
    parts = [math.floor(total * weight / scale / step) * step for weight in weights]
    remainder = round((total - sum(parts)) / step)
    for index in range(remainder):
        parts[index % len(parts)] += step
    return parts


def _state_orders(rng: random.Random, districts: list[dict[str, str]]) -> list[StateOrder]:
    by_province: dict[str, list[str]] = defaultdict(list)
    for district in districts:
        by_province[district["province_code"]].append(district["district_code"])
    orders: list[StateOrder] = []
    for target in _read_csv(TARGETS_FILE):
        codes = by_province[target["province_code"]]
        weights = [rng.uniform(0.6, 1.6) for _ in codes]
        tonnes = _split(float(target["plan_tonnes"]), weights, 100.0)
        area = _split(float(target["plan_area_ha"]), weights, 10.0)
        order_year = int(target["order_year"])
        approved = dt.date(order_year - 1, 8, 15)
        for code, plan_tonnes, plan_area in zip(codes, tonnes, area, strict=True):
            orders.append(
                StateOrder(
                    order_id=0,
                    order_year=order_year,
                    crop=target["crop"],
                    district_code=code,
                    plan_tonnes=plan_tonnes,
                    plan_area_ha=plan_area,
                    version=1,
                    approved_on=approved.isoformat(),
                    updated_at=_timestamp(dt.datetime(order_year - 1, 8, 15, 7, tzinfo=UTC)),
                )
            )
    # A revision: in March the cotton order moves 2,000 t between two districts of Lebap.
    revised: list[StateOrder] = []
    lebap_cotton = [o for o in orders if o.crop == "cotton" and o.district_code.startswith("TM-L")]
    for order, delta in ((lebap_cotton[0], 2000.0), (lebap_cotton[1], -2000.0)):
        revised.append(
            StateOrder(
                **{
                    **order.__dict__,
                    "plan_tonnes": order.plan_tonnes + delta,
                    "version": 2,
                    "approved_on": f"{order.order_year}-03-01",
                    "updated_at": _timestamp(dt.datetime(order.order_year, 3, 1, 6, tzinfo=UTC)),
                }
            )
        )
    everything = orders + revised
    return [
        StateOrder(**{**order.__dict__, "order_id": index})
        for index, order in enumerate(everything, start=1)
    ]


def _farms(rng: random.Random, districts: list[dict[str, str]]) -> list[Farm]:
    farms: list[Farm] = []
    for district in districts:
        for number in range(1, rng.randint(3, 8) + 1):
            farms.append(
                Farm(
                    farm_id=len(farms) + 1,
                    district_code=district["district_code"],
                    farm_name=f"{district['name_tk']} etrabynyň {number}-nji daýhan birleşigi",
                    farm_type="daýhan birleşigi" if number > 1 else "ekerançylyk kärhanasy",
                    established_on=dt.date(1995 + rng.randint(0, 20), 1, 1).isoformat(),
                )
            )
    return farms


def _daily_shares(days: int) -> list[float]:
    """A campaign's pace: slow start, a peak in the first half, a long tail."""
    raw = [
        math.sin(math.pi * (day + 0.5) / days) ** 1.5 * (1.2 - day / days / 2)
        for day in range(days)
    ]
    total = sum(raw)
    return [value / total for value in raw]


def _reports(
    rng: random.Random, districts: list[dict[str, str]], orders: list[StateOrder]
) -> list[DailyReport]:
    plan = {
        (o.order_year, o.crop, o.district_code): o
        for o in sorted(orders, key=lambda order: order.version)
    }
    drafts: list[tuple[str, DailyReport]] = []
    for campaign in campaigns():
        for district in districts:
            code, province = district["district_code"], district["province_code"]
            order = plan.get((campaign.order_year, campaign.crop, code))
            if order is None or province not in campaign.starts:
                continue
            start = campaign.starts[province]
            planned_days = (campaign.planned_end[province] - start).days + 1
            pace = rng.uniform(0.8, 1.3)  # above 1: slower than planned
            days = max(
                5, round(planned_days * pace * (0.75 if campaign.operation == "harvest" else 1))
            )
            fulfilment = rng.uniform(0.9, 1.07)
            if campaign.operation == "sowing":
                total_area, total_tonnes = order.plan_area_ha * fulfilment, 0.0
                harvest_yield = 0.0
            else:
                total_area = order.plan_area_ha * rng.uniform(0.97, 1.0)
                total_tonnes = order.plan_tonnes * fulfilment
                harvest_yield = total_tonnes / total_area
            skipped = {rng.randrange(days)} if rng.random() < 0.3 else set()
            carried = 0.0
            for day, share in enumerate(_daily_shares(days)):
                if day in skipped:  # no report that day: the amount is reported the next day
                    carried += share
                    continue
                share, carried = share + carried, 0.0
                report_date = start + dt.timedelta(days=day)
                amount_area = round(total_area * share, 1)
                amount_tonnes = round(amount_area * harvest_yield, 1) if total_tonnes else 0.0
                delay_days = 1 if rng.random() > 0.06 else rng.randint(2, 4)
                submitted = dt.datetime.combine(
                    report_date + dt.timedelta(days=delay_days), dt.time(3, 0), tzinfo=UTC
                ) + dt.timedelta(minutes=rng.randint(0, 240))
                report = DailyReport(
                    report_id=0,
                    district_code=code,
                    crop=campaign.crop,
                    operation=campaign.operation,
                    report_date=report_date.isoformat(),
                    sown_ha=amount_area if campaign.operation == "sowing" else 0.0,
                    harvested_ha=amount_area if campaign.operation == "harvest" else 0.0,
                    harvested_tonnes=amount_tonnes,
                    reported_by=f"{district['name_tk']} etrap häkimligi",
                    submitted_at=_timestamp(submitted),
                )
                drafts.append((report.submitted_at, report))
                if rng.random() < 0.03:  # a corrected figure for this day, sent days later
                    factor = rng.uniform(0.85, 1.15)
                    corrected_at = submitted + dt.timedelta(days=rng.randint(1, 3), hours=2)
                    correction = DailyReport(
                        **{
                            **report.__dict__,
                            "sown_ha": round(report.sown_ha * factor, 1),
                            "harvested_ha": round(report.harvested_ha * factor, 1),
                            "harvested_tonnes": round(report.harvested_tonnes * factor, 1),
                            "submitted_at": _timestamp(corrected_at),
                        }
                    )
                    drafts.append((correction.submitted_at, correction))
    drafts.sort(
        key=lambda item: (item[0], item[1].district_code, item[1].crop, item[1].report_date)
    )
    return [
        DailyReport(**{**report.__dict__, "report_id": index})
        for index, (_, report) in enumerate(drafts, start=1)
    ]


def generate(seed: int = DEFAULT_SEED) -> CampaignSystem:
    """Every record the campaign database will ever hold in the simulated year."""
    rng = random.Random(seed)
    districts = agricultural_districts()
    orders = _state_orders(rng, districts)
    return CampaignSystem(
        farms=_farms(rng, districts),
        state_orders=orders,
        daily_reports=_reports(rng, districts, orders),
    )


def visible_at(system: CampaignSystem, as_of: dt.datetime) -> CampaignSystem:
    """What the database holds at ``as_of``: only records already entered."""
    cutoff = _timestamp(as_of)
    return CampaignSystem(
        farms=system.farms,
        state_orders=[o for o in system.state_orders if o.updated_at <= cutoff],
        daily_reports=[r for r in system.daily_reports if r.submitted_at <= cutoff],
    )


SCHEMA = {
    "farms": (Farm, "farm_id"),
    "state_orders": (StateOrder, "order_id"),
    "daily_reports": (DailyReport, "report_id"),
}
SQL_TYPES = {int: "integer", float: "double precision", str: "varchar(200)"}
TIMESTAMP_COLUMNS = {"updated_at": "timestamp", "submitted_at": "timestamp"}
DATE_COLUMNS = {"approved_on", "report_date", "established_on"}


def _column_type(dialect: str, name: str, python_type: type) -> str:
    if dialect == "sqlite":
        return {int: "INTEGER", float: "REAL", str: "TEXT"}[python_type]
    if name in TIMESTAMP_COLUMNS:
        return "timestamp"
    if name in DATE_COLUMNS:
        return "date"
    if python_type is float and dialect == "mysql":
        return "double"
    return SQL_TYPES[python_type]


def write(dsn: str, system: CampaignSystem, as_of: dt.datetime) -> dict[str, int]:
    """Bring the database at ``dsn`` to its state at ``as_of``; returns rows added per table.

    Records already present (by primary key) are left alone, so calling this again with a later
    ``as_of`` adds only what was entered in between, like the real system would.
    """
    visible = visible_at(system, as_of)
    connection, dialect = connect(dsn)
    added: dict[str, int] = {}
    try:
        cursor = connection.cursor()
        for table, (record_type, primary_key) in SCHEMA.items():
            names = [field.name for field in fields(record_type)]
            hints = get_type_hints(record_type)
            columns = ", ".join(
                f"{name} {_column_type(dialect.name, name, hints[name])}"
                + (" primary key" if name == primary_key else "")
                for name in names
            )
            cursor.execute(f"create table if not exists {table} ({columns})")
            cursor.execute(f"select {primary_key} from {table}")  # noqa: S608 - fixed names
            present = {row[0] for row in cursor.fetchall()}
            records: Iterable = getattr(visible, table)
            new_rows = [astuple(r) for r in records if getattr(r, primary_key) not in present]
            if new_rows:
                placeholders = ", ".join([dialect.placeholder] * len(names))
                cursor.executemany(
                    f"insert into {table} ({', '.join(names)}) values ({placeholders})",  # noqa: S608
                    new_rows,
                )
            added[table] = len(new_rows)
        connection.commit()
    finally:
        connection.close()
    return added


def simulate(paths: MaglumatPaths, as_of: dt.datetime, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Bring the campaign database the catalogue names (the demo's SQLite file unless
    ``MAGLUMAT_AGRICULTURE_CAMPAIGN_DSN`` says otherwise) to its state at ``as_of``."""
    from maglumat.catalogue import load_catalogue

    system = next(s for s in load_catalogue() if s.name == "agriculture_campaign")
    return write(system.connection(paths), generate(seed), as_of)
