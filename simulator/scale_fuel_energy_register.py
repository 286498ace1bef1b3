"""The fuel and energy dispatch's enterprise register at scale: the demo's enterprises first,
then generated gas fields, oil fields and power stations (codes ``TGZ-AAA`` .. ``ENR-ZZZ``),
each with its daily base output per product; and the product classifier.
"""

from __future__ import annotations

import string

import numpy as np
import polars as pl

from simulator.fuel_energy_files import ENTERPRISE_HEADER
from simulator.fuel_energy_records import CONDENSATE, ENTERPRISES, GAS, OIL, POWER, PRODUCTS
from simulator.scale_processing import current_districts

PREFIX = {"gas_field": "TGZ", "oil_field": "TNB", "power_station": "ENR"}
CODES_PER_PREFIX = 26**3
# Shares of the units by type.
TYPE_SHARE = {"gas_field": 0.40, "oil_field": 0.35, "power_station": 0.25}
CONDENSATE_SHARE = 0.75  # gas fields that also report condensate
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
        ENTERPRISE_HEADER,
        strict=True,
    )
)


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


def enterprise_register(rng: np.random.Generator, units: int) -> pl.DataFrame:
    """The register: the demo's enterprises first, then generated units of each type; with
    each unit's daily base output per product (columns ``base_<product>``)."""
    districts = current_districts()
    frames = []
    for kind, count in _units_by_type(units).items():
        known = [e for e in ENTERPRISES if e.enterprise_type == kind][:count]
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


def product_classifier() -> pl.DataFrame:
    """The product classifier, as the demo system sends it."""
    return pl.DataFrame(
        {
            "product_code": [p.product_code for p in PRODUCTS],
            "name_tk": [p.name_tk for p in PRODUCTS],
            "name_ru": [p.name_ru for p in PRODUCTS],
            "name_en": [p.name_en for p in PRODUCTS],
            "unit": [p.unit for p in PRODUCTS],
        }
    )


def products_by_unit(enterprises: pl.DataFrame) -> pl.DataFrame:
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
