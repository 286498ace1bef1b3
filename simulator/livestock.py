"""The Ministry of Agriculture's livestock census database, simulated (``livestock_census``).

Every agricultural district reports each month, early the next month: the herd at the end of
the month by species (cattle, sheep and goats, camels, poultry) with the month's births, losses
and slaughter, and the month's production (meat in slaughter weight, milk, wool, eggs).
Magnitudes follow the country: some 2.3 million cattle, 17 million sheep and goats, 130,000
camels and 25 million poultry; some 285 kt of meat, 2.3 Mt of milk, 25 kt of wool and 1.6
billion eggs a year. The cycle of the year is there: lambing and calving in late winter and
spring, shearing in spring and early autumn, milk peaking in May, slaughter before the
holidays. The mess of the real thing: reports weeks late, revised reports (a new row with the
next revision number), and one district's December 2022 report that never came.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, replace

from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from simulator.agriculture import REFERENCE_DIR
from simulator.sql_database import SqlTable, demo_connection, local_moment, timestamp, write_tables

SYSTEM = "livestock_census"
MONTHS = [dt.date(year, month, 1) for year in (2022, 2023) for month in range(1, 13)]
MISSING = ("TM-B-02", dt.date(2022, 12, 1))  # Esenguly's December report never came


@dataclass(frozen=True)
class Product:
    product_code: str
    product_name_tk: str
    product_name_ru: str
    product_name_en: str
    unit: str
    updated_at: str


@dataclass(frozen=True)
class HerdReport:
    report_id: int
    district_code: str
    report_month: str
    species: str
    head_count: int
    births: int
    losses: int
    slaughtered: int
    revision: int
    submitted_by: str
    submitted_at: str


@dataclass(frozen=True)
class ProductionReport:
    report_id: int
    district_code: str
    report_month: str
    product_code: str
    quantity: float
    revision: int
    submitted_by: str
    submitted_at: str


@dataclass(frozen=True)
class LivestockSystem:
    products: list[Product]
    herd_reports: list[HerdReport]
    production_reports: list[ProductionReport]

    def tables(self) -> list[SqlTable]:
        return [
            SqlTable("products", Product, "product_code", "updated_at", self.products),
            SqlTable("herd_reports", HerdReport, "report_id", "submitted_at", self.herd_reports),
            SqlTable(
                "production_reports",
                ProductionReport,
                "report_id",
                "submitted_at",
                self.production_reports,
            ),
        ]


PRODUCTS = (
    ("MEAT", "Et (soýum agramy)", "Мясо (в убойном весе)", "Meat (slaughter weight)", "tonnes"),
    ("MILK", "Süýt", "Молоко", "Milk", "tonnes"),
    ("WOOL", "Ýüň", "Шерсть", "Wool (greasy)", "tonnes"),
    ("EGGS", "Ýumurtga", "Яйца", "Eggs", "thousand pieces"),
)
SPECIES = ("cattle", "sheep_goats", "camels", "poultry")
# National head at the start of 2022, annual births per head, annual net growth, losses'
# share of the outflow, carcass weight in tonnes.
HERDS = {
    "cattle": (2_300_000, 0.31, 0.02, 0.08, 0.180),
    "sheep_goats": (17_000_000, 0.46, 0.02, 0.10, 0.018),
    "camels": (130_000, 0.16, 0.01, 0.08, 0.250),
    "poultry": (25_000_000, 1.25, 0.03, 0.12, 0.0012),
}
# Share of the year's births, and of the year's slaughter, by month (January first).
BIRTHS = {
    "cattle": (0.06, 0.12, 0.16, 0.16, 0.12, 0.08, 0.06, 0.05, 0.05, 0.05, 0.05, 0.05),
    "sheep_goats": (0.08, 0.24, 0.3, 0.2, 0.06, 0.02, 0.01, 0.01, 0.01, 0.02, 0.02, 0.03),
    "camels": (0.18, 0.24, 0.24, 0.16, 0.06, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01, 0.02),
    "poultry": (0.06, 0.08, 0.11, 0.12, 0.11, 0.09, 0.08, 0.08, 0.08, 0.07, 0.06, 0.06),
}
SLAUGHTER = (0.07, 0.06, 0.08, 0.08, 0.08, 0.1, 0.1, 0.08, 0.08, 0.08, 0.09, 0.1)
MILK = (0.06, 0.065, 0.08, 0.1, 0.115, 0.11, 0.1, 0.09, 0.075, 0.065, 0.055, 0.055)
WOOL = (0, 0, 0, 0.2, 0.35, 0.2, 0, 0, 0.25, 0, 0, 0)
# Where the herds are: weight of each province for each species.
PROVINCE_WEIGHTS = {
    "cattle": {"TM-A": 1.0, "TM-B": 0.35, "TM-D": 1.2, "TM-L": 1.3, "TM-M": 1.2},
    "sheep_goats": {"TM-A": 1.3, "TM-B": 0.9, "TM-D": 0.8, "TM-L": 1.0, "TM-M": 1.3},
    "camels": {"TM-A": 1.0, "TM-B": 2.2, "TM-D": 0.5, "TM-L": 0.7, "TM-M": 0.8},
    "poultry": {"TM-A": 1.4, "TM-B": 0.6, "TM-D": 1.0, "TM-L": 1.0, "TM-M": 1.1},
}
MILK_PER_COW = 2.3  # tonnes a year, some 45 % of cattle in milk
WOOL_PER_SHEEP = 0.0018  # tonnes a year
EGGS_PER_BIRD = 0.105  # thousand a year, some 60 % of poultry laying
PRODUCTS_ENTERED = "2021-12-01 05:00:00"


def _districts() -> list[dict[str, str]]:
    with (REFERENCE_DIR / "ref_districts.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [r for r in rows if r["is_agricultural"] == "true" and not r["valid_to"]]


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def generate(seed: int = DEFAULT_SEED) -> LivestockSystem:
    """Every report the census database holds for January 2022 to December 2023."""
    rng = random.Random(seed)
    districts = _districts()
    herd_drafts: list[HerdReport] = []
    production_drafts: list[ProductionReport] = []
    heads: dict[tuple[str, str], float] = {}
    for species, (national, *_rest) in HERDS.items():
        weights = [
            PROVINCE_WEIGHTS[species][d["province_code"]] * rng.uniform(0.6, 1.4) for d in districts
        ]
        total = sum(weights)
        for district, weight in zip(districts, weights, strict=True):
            heads[(district["district_code"], species)] = national * weight / total
    for month in MONTHS:
        index = month.month - 1
        for district in districts:
            code = district["district_code"]
            due = _next_month(month) + dt.timedelta(days=rng.randint(1, 5))
            if rng.random() < 0.08:
                due += dt.timedelta(days=rng.randint(8, 25))  # reported weeks late
            submitted = local_moment(due, rng.uniform(9, 17.5))
            reporter = f"{district['name_tk']} etrap oba hojalyk bölümi"
            delivered = (code, month) != MISSING
            slaughter_by_species: dict[str, float] = {}
            for species in SPECIES:
                _, birth_rate, growth, loss_share, _ = HERDS[species]
                start = heads[(code, species)]
                births = start * birth_rate * BIRTHS[species][index] * rng.uniform(0.9, 1.1)
                outflow = start * (birth_rate - growth) * SLAUGHTER[index] * rng.uniform(0.9, 1.1)
                losses = outflow * loss_share
                slaughtered = outflow - losses
                end = start + births - outflow
                heads[(code, species)] = end
                slaughter_by_species[species] = slaughtered
                report = HerdReport(
                    report_id=0,
                    district_code=code,
                    report_month=month.isoformat(),
                    species=species,
                    head_count=round(end),
                    births=round(births),
                    losses=round(losses),
                    slaughtered=round(slaughtered),
                    revision=1,
                    submitted_by=reporter,
                    submitted_at=timestamp(submitted),
                )
                if delivered:
                    herd_drafts.append(report)
                    if rng.random() < 0.02:  # a recount sent weeks later
                        herd_drafts.append(
                            replace(
                                report,
                                head_count=round(end * rng.uniform(0.97, 1.03)),
                                revision=2,
                                submitted_at=timestamp(
                                    submitted + dt.timedelta(days=rng.randint(5, 30), hours=3)
                                ),
                            )
                        )
            quantities = {
                "MEAT": sum(slaughter_by_species[s] * HERDS[s][4] for s in SPECIES),
                "MILK": heads[(code, "cattle")] * 0.45 * MILK_PER_COW * MILK[index],
                "WOOL": heads[(code, "sheep_goats")] * 0.8 * WOOL_PER_SHEEP * WOOL[index] * 0.9,
                "EGGS": heads[(code, "poultry")] * 0.6 * EGGS_PER_BIRD / 12,
            }
            if not delivered:
                continue
            for product_code, quantity in quantities.items():
                if quantity == 0:
                    continue  # no shearing this month: no wool line in the report
                report = ProductionReport(
                    report_id=0,
                    district_code=code,
                    report_month=month.isoformat(),
                    product_code=product_code,
                    quantity=round(quantity * rng.uniform(0.95, 1.05), 1),
                    revision=1,
                    submitted_by=reporter,
                    submitted_at=timestamp(submitted),
                )
                production_drafts.append(report)
                if rng.random() < 0.02:
                    production_drafts.append(
                        replace(
                            report,
                            quantity=round(report.quantity * rng.uniform(0.92, 1.08), 1),
                            revision=2,
                            submitted_at=timestamp(
                                submitted + dt.timedelta(days=rng.randint(5, 30), hours=3)
                            ),
                        )
                    )
    herd_drafts.sort(key=lambda r: (r.submitted_at, r.district_code, r.species, r.report_month))
    production_drafts.sort(
        key=lambda r: (r.submitted_at, r.district_code, r.product_code, r.report_month)
    )
    return LivestockSystem(
        products=[Product(*row, updated_at=PRODUCTS_ENTERED) for row in PRODUCTS],
        herd_reports=[replace(r, report_id=n) for n, r in enumerate(herd_drafts, start=1)],
        production_reports=[
            replace(r, report_id=n) for n, r in enumerate(production_drafts, start=1)
        ],
    )


def visible_at(system: LivestockSystem, as_of: dt.datetime) -> LivestockSystem:
    """What the database holds at ``as_of``: reports submitted by then."""
    cutoff = timestamp(as_of)
    return LivestockSystem(
        products=[p for p in system.products if p.updated_at <= cutoff],
        herd_reports=[r for r in system.herd_reports if r.submitted_at <= cutoff],
        production_reports=[r for r in system.production_reports if r.submitted_at <= cutoff],
    )


def write(dsn: str, system: LivestockSystem, as_of: dt.datetime) -> dict[str, int]:
    """Bring the database at ``dsn`` to ``as_of``; rows added per table."""
    return write_tables(dsn, system.tables(), as_of)


def simulate(
    paths: MaglumatPaths, as_of: dt.datetime = DEFAULT_AS_OF, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Bring the demo's census database (SQLite under ``<MAGLUMAT_HOME>/systems``) to ``as_of``."""
    paths.systems.mkdir(parents=True, exist_ok=True)
    return write(demo_connection(SYSTEM, paths), generate(seed), as_of)
