"""The fuel and energy complex's daily production dispatch at a scale factor (for the benchmark).

``simulator.fuel_energy`` builds the demo's 21 enterprises record by record. A national
warehouse's volume needs thousands of production units (gas and oil fields, power stations),
so this module generates the same system column-wise with numpy and polars, in its native
format: the new dispatch system's CSV files (UTF-8, ``,``, Turkmen headers) dropped into the
inbox, with the file names the catalogue's patterns expect (``pipelines/fuel_energy/sources.yml``):

- the history up to the connection (1 September 2023) as one archive file a month
  (``fek_arhiw_<month>.csv``, saved through Excel, so with a BOM), a few figures corrected by a
  later transmission kept beside the original;
- since then one file a day (``fek_<day>.csv``), the previous day's figures sent at 08:00-09:30
  in Aşgabat, one day's file three days late, a few days sent again whole with corrected
  figures (``fek_<day>_duzedis.csv``, a later transmission that wins);
- the enterprise register (``fek_karhanalar.csv``), the product classifier
  (``fek_onumler.csv``) and the year's monthly plans in versions (``fek_meyilnama_<year>.csv``,
  revisions as ``fek_meyilnama_<year>_v2.csv``).

Gas fields give natural gas (GAZ, thousand m3) and most of them condensate (KND, tonnes), oil
fields crude oil (NBT, tonnes) and associated gas, power stations electricity (ELK, MWh). Gas
peaks in winter, power in winter and the summer heat, oil is flat; each unit stops for
maintenance a few days a year and fulfils its plan at 90-105 %.

A scale factor ``sf`` asks for ``sf`` million daily production rows from 1 January 2022 (where
the warehouse's calendar starts) to the benchmark's moment, by the number of units: the
register's codes (``TGZ-AAA`` .. ``ENR-ZZZ``, 17,576 a prefix) allow 43,940 units at these
shares (the gas fields' prefix fills first), some 45 million rows to the benchmark's moment.
The demo's real enterprises come first, with their names and magnitudes.

As in ``simulator.scale``, there is no ``simulate`` function: the demo must not change.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import string
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl

from simulator import fuel_energy as demo
from simulator.inbox import LEDGER, InboxFile, deliver, inbox_of
from simulator.scale import _current_districts

SYSTEM = demo.SYSTEM
ROWS_PER_SF = 1_000_000
FIRST_DAY = demo.FIRST_DAY  # the warehouse's calendar (dim_dates) starts on 1 January 2022
DAILY_FILES_FROM = demo.DAILY_FILES_FROM
CONNECTED_AT = demo.CONNECTED_AT.replace(tzinfo=None)  # naive UTC, as every moment below
LATE_DAY = demo.LATE_DAY
LOCAL_OFFSET = dt.timedelta(hours=5)  # Aşgabat, no daylight saving time
GAS, OIL, CONDENSATE, POWER = demo.GAS, demo.OIL, demo.CONDENSATE, demo.POWER
PREFIX = {"gas_field": "TGZ", "oil_field": "TNB", "power_station": "ENR"}
CODES_PER_PREFIX = 26**3
# Shares of the units by type, and daily rows a unit gives (products it reports).
TYPE_SHARE = {"gas_field": 0.40, "oil_field": 0.35, "power_station": 0.25}
CONDENSATE_SHARE = 0.75  # gas fields that also report condensate
# Each prefix has 17,576 codes, so the largest type (gas fields) bounds the register.
MAX_UNITS = math.floor(CODES_PER_PREFIX / max(TYPE_SHARE.values()))
ROWS_PER_UNIT_DAY = (
    TYPE_SHARE["gas_field"] * (1 + CONDENSATE_SHARE)
    + TYPE_SHARE["oil_field"] * 2
    + TYPE_SHARE["power_station"]
)
ARCHIVE_CORRECTED_SHARE = 0.004  # figures the old system kept a corrected transmission of
RESENT_DAYS = 3  # daily files sent again whole with corrected figures
DROPPED_UNIT_DAYS = 0.0005  # a unit's figures missing a day (a link down, never caught up)
REVISED_UNITS = 0.05  # units whose plan is revised within the year
ORGANISATION = {
    "gas_field": "Türkmengaz",
    "oil_field": "Türkmennebit",
    "power_station": "Energetika ministrligi",
}
NAME_TK = {
    "gas_field": " gaz käni",
    "oil_field": " nebit käni",
    "power_station": " döwlet elektrik stansiýasy",
}
NAME_RU = {
    "gas_field": "Газовое месторождение ",
    "oil_field": "Нефтяное месторождение ",
    "power_station": "Электростанция ",
}
DAILY_COLUMNS = dict(
    zip(
        ("report_date", "enterprise_code", "product_code", "quantity", "transmitted_at"),
        demo.NEW_HEADER,
        strict=True,
    )
)
PLAN_COLUMNS = dict(
    zip(
        (
            "plan_year",
            "plan_month",
            "enterprise_code",
            "product_code",
            "planned_quantity",
            "version",
            "approved_on",
        ),
        demo.PLAN_HEADER,
        strict=True,
    )
)
ENTERPRISE_COLUMNS = dict(
    zip(
        (
            "enterprise_code",
            "name_tk",
            "name_ru",
            "organisation",
            "enterprise_type",
            "province_code",
            "district_code",
        ),
        demo.ENTERPRISE_HEADER,
        strict=True,
    )
)
PRODUCT_COLUMNS = dict(
    zip(("product_code", "name_tk", "name_ru", "name_en", "unit"), demo.PRODUCT_HEADER, strict=True)
)


def first_report_days(until: dt.datetime) -> int:
    """Days whose figures have been sent by ``until``: from 1 January 2022 to the day before
    ``until`` in Aşgabat (the previous day's file arrives in the morning)."""
    last = (until.astimezone(dt.UTC).replace(tzinfo=None) + LOCAL_OFFSET).date()
    return (last - dt.timedelta(days=1) - FIRST_DAY).days + 1


@dataclass(frozen=True)
class FuelEnergyScale:
    """How a scale factor maps onto the dispatch: the number of production units."""

    scale_factor: float
    units: int

    @classmethod
    def of(cls, scale_factor: float, until: dt.datetime) -> FuelEnergyScale:
        rows_a_unit = first_report_days(until) * ROWS_PER_UNIT_DAY
        units = math.ceil(scale_factor * ROWS_PER_SF / rows_a_unit)
        return cls(scale_factor, min(MAX_UNITS, max(len(PREFIX), units)))


@dataclass(frozen=True)
class ScaledFuelEnergy:
    """Every record the dispatch centre sends up to the last simulated moment. Each daily and
    plan row carries its file's name and arrival (``arrives_at``, naive UTC)."""

    enterprises: pl.DataFrame
    products: pl.DataFrame
    monthly_plans: pl.DataFrame
    daily_production: pl.DataFrame

    NAMES: ClassVar[tuple[str, ...]] = (
        "enterprises",
        "products",
        "monthly_plans",
        "daily_production",
    )

    def write_parquet(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in self.NAMES:
            getattr(self, name).write_parquet(directory / f"fuel_energy_{name}.parquet")

    @classmethod
    def read_parquet(cls, directory: Path) -> ScaledFuelEnergy:
        return cls(
            **{
                name: pl.read_parquet(directory / f"fuel_energy_{name}.parquet")
                for name in cls.NAMES
            }
        )

    def rows_by(self, until: dt.datetime) -> dict[str, int]:
        """Rows of each table in the files that have arrived by ``until``."""
        moment = _naive_utc(until)
        return {
            "daily_production": self.daily_production.filter(pl.col("arrives_at") <= moment).height,
            "monthly_plans": self.monthly_plans.filter(pl.col("arrives_at") <= moment).height,
            "enterprises": self.enterprises.height if moment >= CONNECTED_AT else 0,
        }


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


# --- the register -------------------------------------------------------------------------


def _letters(numbers: np.ndarray) -> np.ndarray:
    """0 .. 17,575 as three capital letters (AAA .. ZZZ)."""
    alphabet = np.array(list(string.ascii_uppercase))
    first, rest = np.divmod(numbers, 26 * 26)
    second, third = np.divmod(rest, 26)
    return np.char.add(np.char.add(alphabet[first], alphabet[second]), alphabet[third])


def _units_by_type(units: int) -> dict[str, int]:
    gas = min(CODES_PER_PREFIX, max(1, round(units * TYPE_SHARE["gas_field"])))
    oil = min(CODES_PER_PREFIX, max(1, round(units * TYPE_SHARE["oil_field"])))
    power = min(CODES_PER_PREFIX, max(1, units - gas - oil))
    return {"gas_field": gas, "oil_field": oil, "power_station": power}


def _enterprises(rng: np.random.Generator, units: int) -> pl.DataFrame:
    """The register: the demo's enterprises first, then generated units of each type; with
    each unit's daily base output per product (columns ``base_<product>``)."""
    districts = _current_districts()
    frames = []
    for kind, count in _units_by_type(units).items():
        known = [e for e in demo.ENTERPRISES if e.enterprise_type == kind][:count]
        taken = {e.enterprise_code[4:] for e in known}
        free = np.setdiff1d(
            np.arange(CODES_PER_PREFIX),
            [(ord(a) - 65) * 676 + (ord(b) - 65) * 26 + ord(c) - 65 for a, b, c in taken],
        )
        new = count - len(known)
        suffix = _letters(np.sort(rng.choice(free, new, replace=False)))
        picks = rng.integers(0, districts.height, new)
        base = _base_output(rng, kind, new)
        generated = pl.DataFrame(
            {
                "enterprise_code": np.char.add(PREFIX[kind] + "-", suffix),
                "name_tk": np.char.add(suffix, NAME_TK[kind]),
                "name_ru": np.char.add(NAME_RU[kind], suffix),
                "province_code": districts["province_code"].gather(picks),
                "district_code": districts["district_code"].gather(picks),
                **base,
            }
        )
        named = pl.DataFrame(
            {
                "enterprise_code": [e.enterprise_code for e in known],
                "name_tk": [e.name_tk for e in known],
                "name_ru": [e.name_ru for e in known],
                "province_code": [e.province_code for e in known],
                "district_code": [e.district_code for e in known],
                **{
                    f"base_{product}": [dict(e.annual).get(product, 0.0) / 365.25 for e in known]
                    for product in (GAS, CONDENSATE, OIL, POWER)
                },
            },
            schema=generated.schema,
        )
        frames.append(
            pl.concat([named, generated]).with_columns(
                pl.lit(ORGANISATION[kind]).alias("organisation"),
                pl.lit(kind).alias("enterprise_type"),
            )
        )
    return pl.concat(frames).select(*ENTERPRISE_COLUMNS, pl.selectors.starts_with("base_"))


def _base_output(rng: np.random.Generator, kind: str, count: int) -> dict[str, np.ndarray]:
    """Daily output of ``count`` new units of a kind in 2022: a few large units, many small.
    The largest stay under the suite's bound of 150,000 a day with season and noise."""
    zero = np.zeros(count)
    if kind == "gas_field":
        gas = np.clip(rng.lognormal(np.log(2_500), 1.0, count), 50, 70_000)
        has_condensate = rng.random(count) < CONDENSATE_SHARE
        condensate = np.where(has_condensate, gas * rng.uniform(0.004, 0.012, count), 0.0)
        return {"base_GAZ": gas, "base_KND": condensate, "base_NBT": zero, "base_ELK": zero}
    if kind == "oil_field":
        oil = np.clip(rng.lognormal(np.log(600), 0.9, count), 20, 12_000)
        gas = oil * rng.uniform(0.4, 1.5, count)  # associated gas, thousand m3 a tonne
        return {"base_GAZ": gas, "base_KND": zero, "base_NBT": oil, "base_ELK": zero}
    power = np.clip(rng.lognormal(np.log(2_500), 0.8, count), 100, 35_000)
    return {"base_GAZ": zero, "base_KND": zero, "base_NBT": zero, "base_ELK": power}


def _products() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "product_code": [p.product_code for p in demo.PRODUCTS],
            "name_tk": [p.name_tk for p in demo.PRODUCTS],
            "name_ru": [p.name_ru for p in demo.PRODUCTS],
            "name_en": [p.name_en for p in demo.PRODUCTS],
            "unit": [p.unit for p in demo.PRODUCTS],
        }
    )


def _unit_products(enterprises: pl.DataFrame) -> pl.DataFrame:
    """One row per unit and product it reports, with its daily base output."""
    return (
        enterprises.select("enterprise_code", "enterprise_type", pl.selectors.starts_with("base_"))
        .unpivot(
            index=["enterprise_code", "enterprise_type"],
            variable_name="product_code",
            value_name="base",
        )
        .filter(pl.col("base") > 0)
        .with_columns(pl.col("product_code").str.strip_prefix("base_"))
        .sort("enterprise_code", "product_code")
    )


# --- the figures ----------------------------------------------------------------------------


def _season() -> pl.Expr:
    """``simulator.fuel_energy._season``, vectorised over ``day`` and ``product_code``."""
    angle = 2 * math.pi * (pl.col("day").dt.ordinal_day() - 20) / 365.25
    product = pl.col("product_code")
    return (
        pl.when(product.is_in([GAS, CONDENSATE]))
        .then(1 + 0.10 * angle.cos())
        .when(product == POWER)
        .then(1 + 0.18 * (2 * angle).cos())
        .otherwise(1.0)
    )


def _growth() -> pl.Expr:
    factor = pl.col("product_code").replace_strict(demo.GROWTH, return_dtype=pl.Float64)
    return factor.pow(pl.col("day").dt.year() - 2022)


def _daily(
    rng: np.random.Generator, unit_products: pl.DataFrame, last_day: dt.date
) -> pl.DataFrame:
    """The transmissions of every figure up to ``last_day``, corrections included, each with
    its file's name and arrival (not in any order: a file's rows are sorted when written)."""
    codes = pl.Enum(unit_products.get_column("enterprise_code").unique(maintain_order=True))
    products = pl.Enum([GAS, CONDENSATE, OIL, POWER])
    years = list(range(FIRST_DAY.year, last_day.year + 1))
    # Maintenance: each unit stops once a year, from a day of March to October for a week (a
    # power station) or three days; per unit and year, so the unit's products stop together.
    units = unit_products.select("enterprise_code", "enterprise_type").unique(maintain_order=True)
    stop_starts = rng.integers(60, 300, (units.height, len(years)))
    units = units.with_columns(
        *(pl.Series(f"stop_{year}", stop_starts[:, index]) for index, year in enumerate(years)),
        pl.when(pl.col("enterprise_type") == "power_station")
        .then(7)
        .otherwise(3)
        .alias("stop_days"),
    )
    unit_products = unit_products.join(units, on=["enterprise_code", "enterprise_type"]).select(
        pl.col("enterprise_code").cast(codes),
        pl.col("product_code").cast(products),
        "base",
        pl.selectors.starts_with("stop_"),
    )
    days = pl.DataFrame({"day": pl.date_range(FIRST_DAY, last_day, eager=True)})
    # One transmission a day for the whole file: the next morning, 08:00-09:30 in Aşgabat.
    sent_minutes = rng.integers(0, 91, days.height)
    late = (
        pl.when(pl.col("day") == LATE_DAY).then(pl.duration(days=3)).otherwise(pl.duration(days=0))
    )
    days = days.with_columns(
        (
            pl.col("day").cast(pl.Datetime("us"))
            + pl.duration(days=1, hours=8, minutes=pl.Series(sent_minutes))
            + late
            - pl.lit(LOCAL_OFFSET)
        ).alias("transmitted_at"),
    )
    grid = days.join(unit_products, how="cross")  # day by day, units in register order
    stop = pl.col(f"stop_{years[-1]}")
    for year in years[:-1]:
        stop = pl.when(pl.col("day").dt.year() == year).then(pl.col(f"stop_{year}")).otherwise(stop)
    ordinal = pl.col("day").dt.ordinal_day()
    stopped = (ordinal >= stop) & (ordinal < stop + pl.col("stop_days"))
    grid = grid.select(
        pl.col("day").alias("report_date"),
        "enterprise_code",
        "product_code",
        (
            pl.col("base")
            * _growth()
            * _season()
            * pl.Series(rng.uniform(0.96, 1.04, grid.height))
            * pl.when(~stopped)
            .then(1.0)
            .when(pl.col("product_code") == POWER)
            .then(0.35)
            .otherwise(0.6)
        )
        .round(1)
        .alias("quantity"),
        "transmitted_at",
    )
    # A unit's whole day missing now and then (a link down, never caught up).
    missing = rng.random((days.height, len(codes.categories))) < DROPPED_UNIT_DAYS
    day_index, unit_index = np.nonzero(missing)
    dropped = pl.DataFrame(
        {
            "report_date": days.get_column("day").gather(day_index),
            "enterprise_code": pl.Series(codes.categories.gather(unit_index), dtype=codes),
        }
    )
    figures = grid.join(dropped, on=["report_date", "enterprise_code"], how="anti")
    del grid

    # The old system kept a corrected transmission beside the original, 1-3 days later;
    # corrections made after the archive was handed over are not in it.
    archived = figures.filter(pl.col("report_date") < DAILY_FILES_FROM)
    corrected = archived.filter(pl.Series(rng.random(archived.height) < ARCHIVE_CORRECTED_SHARE))
    del archived
    corrected = corrected.with_columns(
        (pl.col("quantity") * pl.Series(rng.uniform(0.9, 1.1, corrected.height))).round(1),
        pl.col("transmitted_at")
        + pl.duration(
            days=pl.Series(rng.integers(1, 4, corrected.height)),
            hours=pl.Series(rng.integers(1, 7, corrected.height)),
        ),
    ).filter(pl.col("transmitted_at") < CONNECTED_AT - dt.timedelta(hours=1))

    # Since the connection a corrected day is sent again whole, two days and three hours
    # later, with a few figures changed.
    daily_days = [
        day
        for day in np.arange(
            np.datetime64(DAILY_FILES_FROM), np.datetime64(last_day - dt.timedelta(days=4)) + 1
        ).astype(dt.date)
        if day != LATE_DAY
    ]
    chosen = sorted(rng.choice(daily_days, min(RESENT_DAYS, len(daily_days)), replace=False))
    resent = figures.filter(pl.col("report_date").is_in(chosen))
    changed = rng.random(resent.height) < 0.02
    factor = np.where(changed, rng.uniform(0.85, 0.95, resent.height), 1.0)
    resent = resent.with_columns(
        (pl.col("quantity") * pl.Series(factor)).round(1),
        pl.col("transmitted_at") + pl.duration(days=2, hours=3),
    )

    archive = pl.col("report_date") < DAILY_FILES_FROM
    month = pl.col("report_date").dt.strftime("%Y-%m")
    daily_name = pl.lit("fek_") + pl.col("report_date").dt.strftime("%Y-%m-%d")
    # The archive is handed over at the connection, a month a minute; a daily file arrives
    # five minutes after it was sent.
    archive_arrival = pl.lit(CONNECTED_AT) + pl.duration(
        minutes=(pl.col("report_date").dt.year() - FIRST_DAY.year) * 12
        + pl.col("report_date").dt.month()
        - 1
    )
    named = [
        frame.with_columns(
            pl.when(archive)
            .then(pl.lit("fek_arhiw_") + month + ".csv")
            .otherwise(daily_name + suffix)
            .cast(pl.Categorical)
            .alias("file_name"),
            pl.when(archive)
            .then(archive_arrival)
            .otherwise(pl.col("transmitted_at").max().over("report_date") + pl.duration(minutes=5))
            .alias("arrives_at"),
        )
        for frame, suffix in ((figures, ".csv"), (corrected, ".csv"), (resent, "_duzedis.csv"))
    ]
    return pl.concat(named)


def _month_season(years: list[int]) -> pl.DataFrame:
    """Sum of each product's seasonal and growth factors over each month's days."""
    days = pl.DataFrame(
        {"day": pl.date_range(dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31), eager=True)}
    )
    products = pl.DataFrame({"product_code": [GAS, CONDENSATE, OIL, POWER]})
    return (
        days.join(products, how="cross")
        .with_columns((_season() * _growth()).alias("factor"))
        .group_by(
            pl.col("day").dt.year().cast(pl.Int64).alias("plan_year"),
            pl.col("day").dt.month().cast(pl.Int64).alias("plan_month"),
            "product_code",
        )
        .agg(pl.col("factor").sum().alias("month_factor"))
    )


def _tens(quantity: pl.Expr) -> pl.Expr:
    """Rounded to tens, as the plans are written."""
    return (quantity / 10).round(0) * 10


def _plans(rng: np.random.Generator, unit_products: pl.DataFrame) -> pl.DataFrame:
    """Each year's plan (version 1, approved on 15 December) at 95-111 % of the expected
    output, so that units fulfil it at about 90-105 %; a mid-year revision of the second
    half-year in 2022 and of the fourth quarter in 2023 for a few units (version 2)."""
    years = [FIRST_DAY.year, FIRST_DAY.year + 1]
    unit_years = unit_products.join(
        pl.DataFrame({"plan_year": years}, schema={"plan_year": pl.Int64}), how="cross"
    )
    unit_years = unit_years.with_columns(
        pl.Series("ambition", rng.uniform(0.95, 1.11, unit_years.height))
    )
    originals = unit_years.join(_month_season(years), on=["plan_year", "product_code"]).select(
        "plan_year",
        "plan_month",
        "enterprise_code",
        "product_code",
        _tens(pl.col("base") * pl.col("month_factor") * pl.col("ambition")).alias(
            "planned_quantity"
        ),
        pl.lit(1, dtype=pl.Int64).alias("version"),
        pl.date(pl.col("plan_year") - 1, 12, 15).alias("approved_on"),
        (pl.lit("fek_meyilnama_") + pl.col("plan_year").cast(pl.String) + ".csv").alias(
            "file_name"
        ),
    )
    units = unit_products.get_column("enterprise_code").unique().sort()
    revised_units = units.filter(pl.Series(rng.random(units.len()) < REVISED_UNITS))
    revised_units = pl.concat([revised_units, pl.Series(["ENR-MRY", "TGZ-GLK"])]).unique()
    revision = {2022: (7, dt.date(2022, 6, 20)), 2023: (10, dt.date(2023, 9, 14))}
    revisions = originals.filter(
        pl.col("enterprise_code").is_in(revised_units)
        & (
            pl.col("plan_month")
            >= pl.col("plan_year").replace_strict(
                {year: month for year, (month, _) in revision.items()}
            )
        )
    )
    revisions = revisions.with_columns(
        _tens(pl.col("planned_quantity") * pl.Series(rng.uniform(0.92, 1.06, revisions.height))),
        pl.lit(2, dtype=pl.Int64).alias("version"),
        pl.col("plan_year")
        .replace_strict({year: day for year, (_, day) in revision.items()}, return_dtype=pl.Date)
        .alias("approved_on"),
        (pl.lit("fek_meyilnama_") + pl.col("plan_year").cast(pl.String) + "_v2.csv").alias(
            "file_name"
        ),
    )
    # Plans approved before the connection were handed over with it.
    arrival = pl.max_horizontal(
        pl.lit(CONNECTED_AT - dt.timedelta(minutes=20)),
        pl.col("approved_on").cast(pl.Datetime("us")) + pl.duration(days=1, hours=5),
    )
    return (
        pl.concat([originals, revisions])
        .with_columns(arrival.alias("arrives_at"))
        .sort("arrives_at", "file_name", "enterprise_code", "product_code", "plan_month")
    )


def generate(scale_factor: float, seed: int, until: dt.datetime) -> ScaledFuelEnergy:
    """Every record the dispatch centre sends up to ``until`` at ``scale_factor`` (the units
    are sized so that the figures sent by ``until`` number about ``sf`` million)."""
    plan = FuelEnergyScale.of(scale_factor, until)
    rng = np.random.default_rng([seed, 7])
    enterprises = _enterprises(rng, plan.units)
    unit_products = _unit_products(enterprises)
    last_day = FIRST_DAY + dt.timedelta(days=first_report_days(until) - 1)
    daily = _daily(rng, unit_products, last_day).filter(pl.col("arrives_at") <= _naive_utc(until))
    return ScaledFuelEnergy(
        enterprises=enterprises.drop(pl.selectors.starts_with("base_")),
        products=_products(),
        monthly_plans=_plans(rng, unit_products),
        daily_production=daily,
    )


# --- the inbox files ------------------------------------------------------------------------


def _csv(frame: pl.DataFrame, bom: bool = False, decimals: int | None = None) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_bom=bom, line_terminator="\n", float_precision=decimals)
    return buffer.getvalue()


def _daily_file(rows: pl.DataFrame, bom: bool) -> bytes:
    local = pl.col("transmitted_at") + pl.lit(LOCAL_OFFSET)
    return _csv(
        rows.sort("report_date", "transmitted_at", "enterprise_code", "product_code")
        .select(
            pl.col("report_date").dt.strftime("%Y-%m-%d"),
            "enterprise_code",
            "product_code",
            "quantity",
            (local.dt.strftime("%Y-%m-%d %H:%M:%S") + "+05:00").alias("transmitted_at"),
        )
        .rename(DAILY_COLUMNS),
        bom=bom,
        decimals=1,
    )


def _plan_file(rows: pl.DataFrame) -> bytes:
    return _csv(
        rows.select(
            "plan_year",
            "plan_month",
            "enterprise_code",
            "product_code",
            pl.col("planned_quantity").round(0).cast(pl.Int64),
            "version",
            pl.col("approved_on").dt.strftime("%Y-%m-%d"),
        ).rename(PLAN_COLUMNS)
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC)


def inbox_files(system: ScaledFuelEnergy) -> list[InboxFile]:
    """Every file the dispatch centre sends, with its arrival; rendered only when delivered."""
    register = system.enterprises.rename(ENTERPRISE_COLUMNS)
    products = system.products.rename(PRODUCT_COLUMNS)
    files = [
        InboxFile(
            "fek_karhanalar.csv",
            "enterprises",
            _utc(CONNECTED_AT) - dt.timedelta(minutes=30),
            lambda: _csv(register),
        ),
        InboxFile(
            "fek_onumler.csv",
            "products",
            _utc(CONNECTED_AT) - dt.timedelta(minutes=29),
            lambda: _csv(products),
        ),
    ]
    daily = system.daily_production.partition_by("file_name", as_dict=True, maintain_order=True)
    for (name,), rows in daily.items():
        # The archive and the files sent again were saved through Excel: with a BOM.
        bom = str(name).startswith("fek_arhiw_") or str(name).endswith("_duzedis.csv")
        files.append(
            InboxFile(
                str(name),
                "daily_production",
                _utc(rows["arrives_at"].max()),
                lambda rows=rows, bom=bom: _daily_file(rows, bom),
            )
        )
    plans = system.monthly_plans.partition_by("file_name", as_dict=True, maintain_order=True)
    for (name,), rows in plans.items():
        files.append(
            InboxFile(
                str(name),
                "monthly_plans",
                _utc(rows["arrives_at"].max()),
                lambda rows=rows: _plan_file(rows),
            )
        )
    return files


def write(system: ScaledFuelEnergy, systems_directory: Path, until: dt.datetime) -> dict[str, int]:
    """Bring the inbox to ``until``: the files sent since the last call (the sender's ledger
    beside the inbox remembers them); rows added per table, and files."""
    inbox = inbox_of(systems_directory, SYSTEM)
    sent_before = sorted(_ledger(inbox))
    # Only the rows of files not sent yet are split into files (the next day: one file).
    due = pl.col("arrives_at") <= _naive_utc(until)
    unsent = ~pl.col("file_name").cast(pl.String).is_in(sent_before)
    pending = ScaledFuelEnergy(
        enterprises=system.enterprises,
        products=system.products,
        monthly_plans=system.monthly_plans.filter(due & unsent),
        daily_production=system.daily_production.filter(due & unsent),
    )
    files = inbox_files(pending)
    new = {f.name for f in files if f.arrives_at <= until} - set(sent_before)
    deliver(inbox, files, until)
    return {
        "daily_production": pending.daily_production.height,
        "monthly_plans": pending.monthly_plans.height,
        "enterprises": system.enterprises.height if "fek_karhanalar.csv" in new else 0,
        "products": system.products.height if "fek_onumler.csv" in new else 0,
        "files": len(new),
    }


def _ledger(inbox: Path) -> set[str]:
    """Names of the files sent before (``simulator.inbox``'s sender's ledger)."""
    ledger = inbox.parent / LEDGER
    return set(ledger.read_text(encoding="utf-8").split()) if ledger.exists() else set()
