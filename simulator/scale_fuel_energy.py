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

The register, the figures and the files come from ``simulator.scale_fuel_energy_register``,
``simulator.scale_fuel_energy_figures`` and ``simulator.scale_fuel_energy_files``. As in
``simulator.scale``, there is no ``simulate`` function: the demo must not change.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl

from simulator.fuel_energy import SYSTEM
from simulator.fuel_energy_records import FIRST_DAY
from simulator.inbox import LEDGER, deliver, inbox_of
from simulator.scale_fuel_energy_figures import (
    CONNECTED_AT,
    LOCAL_OFFSET,
    daily_figures,
    monthly_plans,
)
from simulator.scale_fuel_energy_files import inbox_files
from simulator.scale_fuel_energy_register import (
    CODES_PER_PREFIX,
    CONDENSATE_SHARE,
    PREFIX,
    TYPE_SHARE,
    enterprise_register,
    product_classifier,
    products_by_unit,
)

ROWS_PER_SF = 1_000_000
# Each prefix has 17,576 codes, so the largest type (gas fields) bounds the register.
MAX_UNITS = math.floor(CODES_PER_PREFIX / max(TYPE_SHARE.values()))
# Daily rows a unit gives on average: the products each type reports.
ROWS_PER_UNIT_DAY = (
    TYPE_SHARE["gas_field"] * (1 + CONDENSATE_SHARE)
    + TYPE_SHARE["oil_field"] * 2
    + TYPE_SHARE["power_station"]
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


def generate(scale_factor: float, seed: int, until: dt.datetime) -> ScaledFuelEnergy:
    """Every record the dispatch centre sends up to ``until`` at ``scale_factor`` (the units
    are sized so that the figures sent by ``until`` number about ``sf`` million)."""
    plan = FuelEnergyScale.of(scale_factor, until)
    rng = np.random.default_rng([seed, 7])
    enterprises = enterprise_register(rng, plan.units)
    unit_products = products_by_unit(enterprises)
    last_day = FIRST_DAY + dt.timedelta(days=first_report_days(until) - 1)
    daily = daily_figures(rng, unit_products, last_day).filter(
        pl.col("arrives_at") <= _naive_utc(until)
    )
    return ScaledFuelEnergy(
        enterprises=enterprises.drop(pl.selectors.starts_with("base_")),
        products=product_classifier(),
        monthly_plans=monthly_plans(rng, unit_products),
        daily_production=daily,
    )


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
