"""The processing industry's output register at scale (``processing_output``), generated
column-wise: up to 99 plants of each of the five kinds, their monthly plans in versions, and the
daily output per plant, product and day, entered the next morning, some days late, 2 % corrected
by a later row. The same tables, keys and mess as ``simulator.processing``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from simulator.agriculture import REFERENCE_DIR
from simulator.processing_records import CAPACITY, PRODUCTS, REGISTER_OPENED
from simulator.working_calendar import public_holidays

KIND_PREFIX = {
    "cotton_gin": "PZ",
    "flour_mill": "UZ",
    "vegetable_oil": "YZ",
    "cannery": "KZ",
    "dairy": "SZ",
}
KIND_NAME = {
    "cotton_gin": "pagta arassalaýjy kärhanasy",
    "flour_mill": "dökün kärhanasy",
    "vegetable_oil": "ýag zawody",
    "cannery": "konserwa zawody",
    "dairy": "süýt zawody",
}
KIND_OWNER = {
    "cotton_gin": "Ministry of Agriculture",
    "flour_mill": "Türkmengallaönümleri State Association",
    "vegetable_oil": "Ministry of Industry and Construction Production",
    "cannery": "Ministry of Industry and Construction Production",
    "dairy": "Ministry of Industry and Construction Production",
}


def _utc_text(column: str) -> pl.Expr:
    """A naive UTC moment as the register stores it."""
    return pl.col(column).dt.strftime("%Y-%m-%d %H:%M:%S")


def current_districts() -> pl.DataFrame:
    """The reference districts in force now (no ``valid_to``)."""
    districts = pl.read_csv(REFERENCE_DIR / "ref_districts.csv", infer_schema_length=0)
    return districts.filter(pl.col("valid_to").is_null() | (pl.col("valid_to") == ""))


def _plants(rng: np.random.Generator, per_kind: int, first_year: int) -> pl.DataFrame:
    districts = current_districts()
    rows: dict[str, list] = {name: [] for name in ("plant_code", "plant_type")}
    for kind, prefix in KIND_PREFIX.items():
        for number in range(1, per_kind + 1):
            rows["plant_code"].append(f"{prefix}-{number:02d}")
            rows["plant_type"].append(kind)
    count = len(rows["plant_code"])
    picks = rng.integers(0, districts.height, count)
    low = np.array([CAPACITY[kind][0] for kind in rows["plant_type"]])
    high = np.array([CAPACITY[kind][1] for kind in rows["plant_type"]])
    commissioned_year = rng.integers(1968, min(first_year, 2012), count)
    commissioned_month = rng.integers(1, 13, count)
    frame = pl.DataFrame(
        {
            "plant_code": rows["plant_code"],
            "plant_type": rows["plant_type"],
            "district_code": districts["district_code"].gather(picks),
            "district_name": districts["name_tk"].gather(picks),
            "capacity_tonnes_per_day": np.round(rng.uniform(low, high) * 1.15, 0),
            "commissioned_on": [
                f"{year:04d}-{month:02d}-01"
                for year, month in zip(commissioned_year, commissioned_month, strict=True)
            ],
        }
    )
    return frame.select(
        "plant_code",
        (
            pl.col("district_name")
            + " "
            + pl.col("plant_type").replace_strict(KIND_NAME)
            + " "
            + pl.col("plant_code").str.slice(3)
        ).alias("plant_name"),
        "plant_type",
        pl.col("plant_type").replace_strict(KIND_OWNER).alias("owner"),
        "district_code",
        "capacity_tonnes_per_day",
        "commissioned_on",
        pl.lit(1, dtype=pl.Int64).alias("is_active"),
        pl.lit(REGISTER_OPENED).alias("updated_at"),
    )


def _products() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "product_code": [p[0] for p in PRODUCTS],
            "product_name_tk": [p[1] for p in PRODUCTS],
            "product_name_ru": [p[2] for p in PRODUCTS],
            "product_name_en": [p[3] for p in PRODUCTS],
            "unit": ["tonnes"] * len(PRODUCTS),
            "product_group": [p[4] for p in PRODUCTS],
            "updated_at": [REGISTER_OPENED] * len(PRODUCTS),
        }
    )


def _operates() -> pl.Expr:
    """Vectorised ``simulator.processing._operates``: seasons and stops of each kind."""
    month, day, kind = pl.col("day").dt.month(), pl.col("day").dt.day(), pl.col("plant_type")
    holiday = pl.col("day").is_in(sorted(public_holidays()))
    return (
        pl.when(kind == "cotton_gin")
        .then(((month >= 9) & ((month > 9) | (day >= 10))) | (month <= 2))
        .when(kind == "flour_mill")
        .then(~holiday & ~((month == 7) & (day <= 10)))
        .when(kind == "vegetable_oil")
        .then(~month.is_in([7, 8, 9]))
        .when(kind == "cannery")
        .then(
            pl.when(pl.col("product_code") == "402")
            .then((month >= 8) & (month <= 10))
            .otherwise((month >= 6) & (month <= 11) & (pl.col("day").dt.weekday() != 7))
        )
        .otherwise(True)
    )


def _seasonal() -> pl.Expr:
    month = pl.col("day").dt.month()
    dairy = {3: 1.1, 4: 1.25, 5: 1.3, 6: 1.2, 7: 1.05, 12: 0.85, 1: 0.8, 2: 0.9}
    gin = {9: 0.7, 10: 1.15, 11: 1.2, 12: 1.0, 1: 0.85, 2: 0.6}
    return (
        pl.when(pl.col("plant_type") == "dairy")
        .then(month.replace_strict(dairy, default=1.0, return_dtype=pl.Float64))
        .when(pl.col("plant_type") == "cotton_gin")
        .then(month.replace_strict(gin, default=1.0, return_dtype=pl.Float64))
        .otherwise(1.0)
    )


def processing_output(
    rng: np.random.Generator, plants_per_kind: int, history_years: int, until: dt.datetime
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The register's plants, products, monthly plans and daily output up to ``until``, with
    ``plants_per_kind`` plants of each kind reporting for the last ``history_years`` years."""
    last_day = (until + dt.timedelta(hours=5)).date() - dt.timedelta(days=1)
    first_year = last_day.year - history_years + 1
    plants = _plants(rng, plants_per_kind, first_year)
    products = pl.DataFrame(
        {
            "product_code": [p[0] for p in PRODUCTS],
            "plant_type": [p[5] for p in PRODUCTS],
            "product_yield": [p[6] for p in PRODUCTS],
        }
    )
    years = list(range(first_year, last_day.year + 1))
    plant_years = plants.select("plant_code", "plant_type", "capacity_tonnes_per_day").join(
        pl.DataFrame({"year": years}, schema={"year": pl.Int32}), how="cross"
    )
    plant_years = plant_years.with_columns(
        pl.Series("fulfilment", rng.uniform(0.9, 1.06, plant_years.height)),
        pl.Series("revision", rng.uniform(0.92, 1.1, plant_years.height)),
        (pl.col("capacity_tonnes_per_day") / 1.15).alias("throughput"),
    )
    days = pl.DataFrame(
        {
            "day": pl.date_range(
                dt.date(first_year, 1, 1), dt.date(last_day.year, 12, 31), eager=True
            )
        }
    ).with_columns(pl.col("day").dt.year().cast(pl.Int32).alias("year"))
    grid = (
        plant_years.join(days, on="year")
        .join(products, on="plant_type")
        .with_columns(_operates().alias("operates"), _seasonal().alias("seasonal"))
        .filter(pl.col("operates"))
    )

    # Plans: the month's working days at the planned throughput; a summer revision of the
    # second half-year for mills in even years and gins in odd ones.
    monthly = (
        grid.with_columns(pl.col("day").dt.month().cast(pl.Int32).alias("month"))
        .group_by(
            "plant_code",
            "plant_type",
            "product_code",
            "year",
            "month",
            "revision",
            maintain_order=True,
        )
        .agg(
            (pl.col("throughput") * pl.col("product_yield") * pl.col("seasonal"))
            .sum()
            .round(0)
            .alias("plan_tonnes")
        )
    )
    originals = monthly.with_columns(
        pl.lit(1).alias("version"),
        pl.date(pl.col("year") - 1, 12, 20).alias("approved"),
        pl.lit(11).alias("hour"),
    )
    revised = monthly.filter(
        (pl.col("month") >= 8)
        & (
            ((pl.col("year") % 2 == 0) & (pl.col("plant_type") == "flour_mill"))
            | ((pl.col("year") % 2 == 1) & (pl.col("plant_type") == "cotton_gin"))
        )
    ).with_columns(
        (pl.col("plan_tonnes") * pl.col("revision")).round(0).alias("plan_tonnes"),
        pl.lit(2).alias("version"),
        pl.date(pl.col("year"), 7, 8).alias("approved"),
        pl.lit(15).alias("hour"),
    )
    plans = (
        pl.concat([originals, revised])
        .with_columns(
            (
                pl.col("approved").cast(pl.Datetime("us")) + pl.duration(hours=pl.col("hour") - 5)
            ).alias("updated")
        )
        .filter(pl.col("updated") <= until.replace(tzinfo=None))
        .sort("updated", "plant_code", "product_code", "year", "month")
        .with_row_index("plan_id", offset=1)
        .select(
            pl.col("plan_id").cast(pl.Int64),
            pl.col("year").cast(pl.Int64).alias("plan_year"),
            pl.col("month").cast(pl.Int64).alias("plan_month"),
            "plant_code",
            "product_code",
            "plan_tonnes",
            pl.col("version").cast(pl.Int64),
            pl.col("approved").dt.strftime("%Y-%m-%d").alias("approved_on"),
            _utc_text("updated").alias("updated_at"),
        )
    )

    # Daily output: one load a plant and day (shared by its products), entered the next
    # morning (8:00-11:30 in Aşgabat), 4 % of days 2-6 days late.
    # In the grid's order: the random numbers below go to the same plant and day every run.
    plant_days = grid.select("plant_code", "day").unique(maintain_order=True)
    count = plant_days.height
    delay = np.where(rng.random(count) > 0.04, 1, rng.integers(2, 7, count))
    plant_days = plant_days.with_columns(
        pl.Series("load", rng.uniform(0.82, 1.14, count)),
        (
            pl.col("day").cast(pl.Datetime("us"))
            + pl.duration(days=pl.Series(delay))
            + pl.duration(seconds=pl.Series(np.round(rng.uniform(8, 11.5, count) * 3600)))
            - pl.duration(hours=5)
        ).alias("entered"),
    )
    drafts = (
        grid.filter(pl.col("day") <= last_day)
        .join(plant_days, on=["plant_code", "day"])
        .select(
            "plant_code",
            "product_code",
            "day",
            (
                pl.col("throughput")
                * pl.col("product_yield")
                * pl.col("load")
                * pl.col("fulfilment")
                * pl.col("seasonal")
            )
            .round(1)
            .alias("quantity_tonnes"),
            (pl.col("plant_code").str.to_lowercase() + ".hasapçy").alias("entered_by"),
            "entered",
        )
        .with_row_index("draft")
    )
    corrected = drafts.filter(pl.Series(rng.random(drafts.height) < 0.02))
    corrections = corrected.with_columns(
        (pl.col("quantity_tonnes") * pl.Series(rng.uniform(0.88, 1.1, corrected.height)))
        .round(1)
        .alias("quantity_tonnes"),
        pl.lit("ministrlik.operator").alias("entered_by"),
        (
            pl.col("entered")
            + pl.duration(days=pl.Series(rng.integers(1, 11, corrected.height)))
            + pl.duration(seconds=pl.Series(np.round(rng.uniform(0, 6, corrected.height) * 3600)))
        ).alias("entered"),
        pl.col("draft").alias("corrects_draft"),
        (pl.col("draft") + drafts.height).alias("draft"),
    )
    entered = (
        pl.concat(
            [
                drafts.with_columns(pl.lit(None, dtype=pl.UInt32).alias("corrects_draft")),
                corrections,
            ]
        )
        .filter(pl.col("entered") <= until.replace(tzinfo=None))
        .sort("entered", "plant_code", "day", "product_code")
        .with_row_index("record_id", offset=1)
    )
    ids = entered.select(
        pl.col("draft").alias("corrects_draft"), pl.col("record_id").alias("corrects")
    )
    daily_output = (
        entered.join(ids, on="corrects_draft", how="left")
        .sort("record_id")
        .select(
            pl.col("record_id").cast(pl.Int64),
            "plant_code",
            "product_code",
            pl.col("day").dt.strftime("%Y-%m-%d").alias("output_date"),
            "quantity_tonnes",
            pl.col("corrects").cast(pl.Int64).alias("corrects_record_id"),
            "entered_by",
            _utc_text("entered").alias("entered_at"),
        )
    )
    return plants, _products(), plans, daily_output
