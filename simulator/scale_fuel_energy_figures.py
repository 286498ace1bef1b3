"""The fuel and energy dispatch's figures at scale: every unit's daily production from
1 January 2022 (seasons, maintenance stops, days lost, corrections in the archive and days sent
again since the connection), each row with its file's name and arrival; and the yearly plans
in versions.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

from simulator.fuel_energy import DAILY_FILES_FROM, LATE_DAY
from simulator.fuel_energy_files import CONNECTED_AT as CONNECTED_AT_UTC
from simulator.fuel_energy_records import CONDENSATE, FIRST_DAY, GAS, GROWTH, OIL, POWER

CONNECTED_AT = CONNECTED_AT_UTC.replace(tzinfo=None)  # naive UTC, as every moment below
LOCAL_OFFSET = dt.timedelta(hours=5)  # Aşgabat, no daylight saving time
ARCHIVE_CORRECTED_SHARE = 0.004  # figures the old system kept a corrected transmission of
RESENT_DAYS = 3  # daily files sent again whole with corrected figures
DROPPED_UNIT_DAYS = 0.0005  # a unit's figures missing a day (a link down, never caught up)
REVISED_UNITS = 0.05  # units whose plan is revised within the year


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
    factor = pl.col("product_code").replace_strict(GROWTH, return_dtype=pl.Float64)
    return factor.pow(pl.col("day").dt.year() - 2022)


def daily_figures(
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
            maintain_order=True,
        )
        .agg(pl.col("factor").sum().alias("month_factor"))
    )


def _tens(quantity: pl.Expr) -> pl.Expr:
    """Rounded to tens, as the plans are written."""
    return (quantity / 10).round(0) * 10


def monthly_plans(rng: np.random.Generator, unit_products: pl.DataFrame) -> pl.DataFrame:
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
    revised_units = pl.concat([revised_units, pl.Series(["ENR-MRY", "TGZ-GLK"])]).unique(
        maintain_order=True
    )
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
