"""The largest sector systems at a scale factor, generated column-wise (for the benchmark).

The demo's simulators build every record as a Python object, which is right for a few hundred
thousand rows and far too slow for tens of millions. This module generates the two systems that
carry the volume of a national warehouse, with the same tables, keys, value ranges and mess as
their demo simulators, with numpy and polars:

- ``processing_output`` (SQLite): up to 99 plants of each of the five kinds (the register's
  plant codes have two digits), their monthly plans in versions and the daily output per plant,
  product and day, entered the next morning, some days late, 2 % corrected by a later row;
- ``edocument_workflow`` (JSON lines, one file a day): documents of 21 organisations, each
  registered, routed, assigned (sometimes twice: a deadline extended) and mostly executed, with
  events delivered twice and executions synced days late.

A scale factor ``sf`` asks for ``sf`` million daily output rows and ``sf`` half-millions of
events. The plant register grows first (from 8 to 99 plants a kind), then the history reaches
further back, down to January 2022, where the warehouse's calendar (``dim_dates``) starts. That
caps the output at about half a million rows: SF 1 and above differ in their events only (see
docs/benchmark.md). The other sectors keep their demo systems: they report monthly forms of a
few dozen enterprises, which is their national size.

There is deliberately no ``simulate`` function here: ``simulator.simulate_all`` runs every module
that has one, and the demo must not change.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import get_type_hints

import numpy as np
import polars as pl

from simulator.agriculture import REFERENCE_DIR
from simulator.edocument import (
    CABINET_TYPES,
    DOCUMENT_TYPES,
    EVENT_FIELDS,
    MINISTRIES,
)
from simulator.processing import (
    CAPACITY,
    PRODUCTS,
    REGISTER_OPENED,
    DailyOutput,
    MonthlyPlan,
    Plant,
    Product,
    SqlTable,
    _python_type,
)
from simulator.working_calendar import is_working_day, public_holidays

OUTPUT_ROWS_PER_SF = 1_000_000
EVENTS_PER_SF = 500_000
EARLIEST_YEAR = 2022  # the warehouse's calendar (dim_dates) starts on 1 January 2022
MAX_PLANTS_PER_KIND = 99  # plant codes are two digits: PZ-01 .. PZ-99
EVENTS_FIRST_DAY = dt.date(2022, 1, 1)
LOCAL_OFFSET = np.timedelta64(5, "h")  # Aşgabat, no daylight saving time
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
# Average output rows a plant of each kind enters a year (products x operating days), used to
# size the register and its history for a scale factor.
ROWS_PER_PLANT_YEAR = 585


@dataclass(frozen=True)
class ScalePlan:
    """How a scale factor maps onto the systems."""

    scale_factor: float
    plants_per_kind: int
    history_years: int
    documents_per_working_day: int

    @classmethod
    def of(cls, scale_factor: float) -> ScalePlan:
        target_rows = scale_factor * OUTPUT_ROWS_PER_SF
        kinds = len(KIND_PREFIX)
        plants = math.ceil(target_rows / (kinds * ROWS_PER_PLANT_YEAR * 2))
        plants = min(MAX_PLANTS_PER_KIND, max(8, plants))
        years = math.ceil(target_rows / (kinds * plants * ROWS_PER_PLANT_YEAR))
        working_days = 440  # January 2022 to October 2023
        events_per_document = 4.3
        documents = math.ceil(scale_factor * EVENTS_PER_SF / events_per_document / working_days)
        return cls(
            scale_factor=scale_factor,
            plants_per_kind=plants,
            history_years=max(1, min(years, 2023 - EARLIEST_YEAR + 1)),
            documents_per_working_day=max(5, documents),
        )


@dataclass(frozen=True)
class ScaledSystems:
    """Every record the two systems hold up to ``until`` (the last simulated moment)."""

    plants: pl.DataFrame
    products: pl.DataFrame
    monthly_plans: pl.DataFrame
    daily_output: pl.DataFrame
    event_lines: pl.DataFrame  # file_name, logged_at_utc (naive), text

    def write_parquet(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name in ("plants", "products", "monthly_plans", "daily_output", "event_lines"):
            getattr(self, name).write_parquet(directory / f"{name}.parquet")

    @classmethod
    def read_parquet(cls, directory: Path) -> ScaledSystems:
        return cls(
            **{
                name: pl.read_parquet(directory / f"{name}.parquet")
                for name in ("plants", "products", "monthly_plans", "daily_output", "event_lines")
            }
        )


def _utc_text(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%d %H:%M:%S")


def _current_districts() -> pl.DataFrame:
    districts = pl.read_csv(REFERENCE_DIR / "ref_districts.csv", infer_schema_length=0)
    return districts.filter(pl.col("valid_to").is_null() | (pl.col("valid_to") == ""))


# --- processing_output --------------------------------------------------------------------


def _plants(rng: np.random.Generator, per_kind: int, first_year: int) -> pl.DataFrame:
    districts = _current_districts()
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


def _processing(
    rng: np.random.Generator, plan: ScalePlan, until: dt.datetime
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    last_day = (until + dt.timedelta(hours=5)).date() - dt.timedelta(days=1)
    first_year = last_day.year - plan.history_years + 1
    plants = _plants(rng, plan.plants_per_kind, first_year)
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
        .group_by("plant_code", "plant_type", "product_code", "year", "month", "revision")
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
    plant_days = grid.select("plant_code", "day").unique()
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


# --- edocument_workflow -------------------------------------------------------------------


def _working_calendar(first: dt.date, last: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Days from ``first`` to ``last`` (datetime64[D]) and, for each, the next working day."""
    days = np.arange(np.datetime64(first), np.datetime64(last) + 1, dtype="datetime64[D]")
    as_dates = days.astype(dt.date)
    working = np.array([is_working_day(d) for d in as_dates])
    following = np.empty(len(days), dtype="datetime64[D]")
    upcoming = days[-1]
    for index in range(len(days) - 1, -1, -1):  # one pass over the calendar, not the rows
        if working[index]:
            upcoming = days[index]
        following[index] = upcoming
    return days, following


class _Calendar:
    def __init__(self, first: dt.date, last: dt.date) -> None:
        self.first = np.datetime64(first, "D")
        self.days, self.following = _working_calendar(first, last)

    def next_working(self, day: np.ndarray) -> np.ndarray:
        index = np.clip((day - self.first).astype(np.int64), 0, len(self.days) - 1)
        return self.following[index]

    def office_time(self, moment: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Local moments moved to the next working morning when outside office hours."""
        day = moment.astype("datetime64[D]")
        hour = (moment - day).astype("timedelta64[h]").astype(np.int64)
        inside = (self.next_working(day) == day) & (hour >= 9) & (hour < 18)
        start = np.where(hour < 9, day, day + 1)
        morning = self.next_working(start).astype("datetime64[s]") + np.timedelta64(9, "h")
        jitter = rng.integers(0, 90 * 60 + 1, len(moment)).astype("timedelta64[s]")
        return np.where(inside, moment, morning + jitter)


def _uuids(rng: np.random.Generator, count: int) -> np.ndarray:
    raw = rng.integers(0, 256, (count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    hexed = np.empty((count, 32), dtype=np.uint8)
    hexed[:, 0::2] = digits[raw >> 4]
    hexed[:, 1::2] = digits[raw & 0x0F]
    dash = np.full((count, 1), ord("-"), dtype=np.uint8)
    parts = [hexed[:, 0:8], dash, hexed[:, 8:12], dash, hexed[:, 12:16], dash]
    parts += [hexed[:, 16:20], dash, hexed[:, 20:32]]
    return np.ascontiguousarray(np.hstack(parts)).view("S36").ravel().astype(str)


def _choice(rng: np.random.Generator, options: dict[str, float], count: int) -> np.ndarray:
    names = np.array(list(options))
    weights = np.array(list(options.values()), dtype=float)
    return names[rng.choice(len(names), count, p=weights / weights.sum())]


def _events(rng: np.random.Generator, plan: ScalePlan, until: dt.datetime) -> pl.DataFrame:
    last_day = (until + dt.timedelta(hours=5)).date()
    calendar_ = _Calendar(EVENTS_FIRST_DAY, last_day + dt.timedelta(days=120))
    days = calendar_.days[calendar_.days <= np.datetime64(last_day)]
    working_days = days[calendar_.next_working(days) == days]
    per_day = rng.integers(
        max(1, plan.documents_per_working_day * 3 // 4),
        plan.documents_per_working_day * 5 // 4 + 1,
        len(working_days),
    )
    day = np.repeat(working_days, per_day)
    count = len(day)
    # Senders: every organisation alike, the Cabinet twice (document numbers have five digits
    # a sender and year, which a national volume would overflow at the demo's weights).
    sender = _choice(rng, {code: 2 if code == "CAB" else 1 for code in MINISTRIES}, count)
    is_cabinet = sender == "CAB"
    kinds = {kind: weight for kind, (_, weight) in DOCUMENT_TYPES.items() if weight}
    document_type = np.where(
        is_cabinet, _choice(rng, CABINET_TYPES, count), _choice(rng, kinds, count)
    )
    receivers = np.array([code for code in MINISTRIES if code != "CAB"])
    receiver = receivers[rng.integers(0, len(receivers), count)]
    clash = receiver == sender
    while clash.any():
        receiver[clash] = receivers[rng.integers(0, len(receivers), int(clash.sum()))]
        clash = receiver == sender
    year = day.astype("datetime64[Y]").astype(np.int64) + 1970
    serial = (
        pl.DataFrame({"sender": sender, "year": year})
        .with_columns(pl.int_range(1, pl.len() + 1).over("sender", "year").alias("serial"))
        .get_column("serial")
        .to_numpy()
    )
    if serial.max() > 99_999:
        raise ValueError("more than 99,999 documents a sender and year: lower the scale")
    document_id = np.char.add(
        np.char.add(np.char.add(sender.astype(str), "-"), year.astype(str)),
        np.char.add("-", np.char.zfill(serial.astype(str), 5)),
    )
    days_to_execute = np.array(
        [DOCUMENT_TYPES[kind][0] or -1 for kind in DOCUMENT_TYPES], dtype=np.int64
    )
    kind_index = {kind: index for index, kind in enumerate(DOCUMENT_TYPES)}
    to_execute = days_to_execute[np.vectorize(kind_index.__getitem__)(document_type)]
    has_deadline = to_execute >= 0
    deadline = calendar_.next_working(day + np.maximum(to_execute, 0).astype("timedelta64[D]"))

    def seconds(values: np.ndarray) -> np.ndarray:
        return np.round(values).astype("timedelta64[s]")

    registered = (
        day.astype("datetime64[s]")
        + np.timedelta64(9, "h")
        + rng.integers(0, 510 * 60 + 1, count).astype("timedelta64[s]")
    )
    routed = calendar_.office_time(registered + seconds(rng.uniform(3, 120, count) * 60), rng)
    assigned = calendar_.office_time(routed + seconds(rng.uniform(0.5, 30, count) * 3600), rng)
    extended = has_deadline & (rng.random(count) < 0.04)
    new_deadline = calendar_.next_working(
        deadline + rng.integers(7, 21, count).astype("timedelta64[D]")
    )
    reassigned = calendar_.office_time(
        assigned + rng.integers(2, 7, count).astype("timedelta64[D]"), rng
    )
    final_deadline = np.where(extended, new_deadline, deadline)
    last = np.where(extended, reassigned, assigned)
    executed_flag = rng.random(count) > 0.02
    available = np.maximum((final_deadline - last.astype("datetime64[D]")).astype(np.int64), 1)
    on_time = rng.random(count) < 0.86
    filed = last + seconds(rng.uniform(0.2, 5, count) * 86400)
    in_time = last + seconds(rng.uniform(0.1, available - 0.1) * 86400)
    late = (
        final_deadline.astype("datetime64[s]")
        + np.timedelta64(12, "h")
        + rng.integers(1, 26, count).astype("timedelta64[D]")
    )
    executed = np.where(~has_deadline, filed, np.where(on_time, in_time, late))
    executed = np.maximum(calendar_.office_time(executed, rng), last)
    department = np.char.add(
        np.char.add(receiver.astype(str), "-"),
        np.char.zfill(rng.integers(1, 13, count).astype(str), 2),
    )
    documents = pl.DataFrame(
        {
            "document_id": document_id,
            "document_type": document_type,
            "sender_ministry": sender,
            "receiver_ministry": receiver,
            "department": department,
            "deadline": np.where(has_deadline, deadline, np.datetime64("NaT")),
            "final_deadline": np.where(has_deadline, final_deadline, np.datetime64("NaT")),
            "registered": registered.astype("datetime64[ms]"),
            "routed": routed.astype("datetime64[ms]"),
            "assigned": assigned.astype("datetime64[ms]"),
            "reassigned": reassigned.astype("datetime64[ms]"),
            "executed": executed.astype("datetime64[ms]"),
            "is_extended": extended,
            "is_executed": executed_flag,
        }
    )
    common = ["document_id", "document_type", "sender_ministry", "receiver_ministry"]
    steps = [
        documents.select(*common, pl.lit("registered").alias("event_type"),
                         pl.col("registered").alias("moment"), "deadline",
                         pl.lit(None, dtype=pl.String).alias("department")),
        documents.select(*common, pl.lit("routed").alias("event_type"),
                         pl.col("routed").alias("moment"), "deadline",
                         pl.lit(None, dtype=pl.String).alias("department")),
        documents.select(*common, pl.lit("assigned").alias("event_type"),
                         pl.col("assigned").alias("moment"), "deadline", "department"),
        documents.filter("is_extended").select(
            *common, pl.lit("assigned").alias("event_type"), pl.col("reassigned").alias("moment"),
            pl.col("final_deadline").alias("deadline"), "department"),
        documents.filter("is_executed").select(
            *common, pl.lit("executed").alias("event_type"), pl.col("executed").alias("moment"),
            pl.col("final_deadline").alias("deadline"), "department"),
    ]  # fmt: skip
    events = pl.concat(steps)
    total = events.height
    late_sync = (events["event_type"] == "executed").to_numpy() & (rng.random(total) < 0.01)
    arrival_delay = rng.uniform(0.1, 3, total) + np.where(
        late_sync, rng.integers(1, 4, total) * 86400 + rng.uniform(0, 4, total) * 3600, 0
    )
    events = events.with_columns(
        pl.Series("event_id", _uuids(rng, total)),
        (
            pl.col("moment") + pl.duration(milliseconds=pl.Series(np.round(arrival_delay * 1000)))
        ).alias("arrival"),
    )
    twice = events.filter(pl.Series(rng.random(total) < 0.003))
    twice = twice.with_columns(
        (
            pl.col("arrival") + pl.duration(seconds=pl.Series(rng.uniform(5, 60, twice.height)))
        ).alias("arrival")
    )
    local_text = "%Y-%m-%dT%H:%M:%S+05:00"
    lines = (
        pl.concat([events, twice])
        .with_columns(pl.col("arrival").dt.truncate("1s").alias("logged_local"))
        .with_columns((pl.col("logged_local") - pl.duration(hours=5)).alias("logged_at_utc"))
        .filter(pl.col("logged_at_utc") <= until.replace(tzinfo=None))
        .sort("arrival", "event_id")
        .select(
            (
                pl.lit("events-") + pl.col("arrival").dt.strftime("%Y-%m-%d") + pl.lit(".jsonl")
            ).alias("file_name"),
            "logged_at_utc",
            pl.struct(
                "event_id",
                "event_type",
                pl.col("moment").dt.strftime(local_text).alias("event_time"),
                "document_id",
                "document_type",
                "sender_ministry",
                "receiver_ministry",
                pl.col("deadline").dt.strftime("%Y-%m-%d").alias("deadline"),
                "department",
                pl.col("logged_local").dt.strftime(local_text).alias("logged_at"),
            )
            .struct.json_encode()
            .alias("text"),
        )
    )
    assert list(json.loads(lines["text"][0])) == list(EVENT_FIELDS)  # the log's field order
    return lines


# --- generating and writing ---------------------------------------------------------------


def generate(scale_factor: float, seed: int, until: dt.datetime) -> ScaledSystems:
    """Every record the two systems hold up to ``until`` at ``scale_factor``."""
    plan = ScalePlan.of(scale_factor)
    rng = np.random.default_rng(seed)
    plants, products, plans, daily_output = _processing(rng, plan, until)
    return ScaledSystems(
        plants=plants,
        products=products,
        monthly_plans=plans,
        daily_output=daily_output,
        event_lines=_events(rng, plan, until),
    )


def _cutoff(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _tables() -> dict[str, SqlTable]:
    return {
        "plants": SqlTable("plants", Plant, "plant_code", "updated_at", ()),
        "products": SqlTable("products", Product, "product_code", "updated_at", ()),
        "monthly_plans": SqlTable("monthly_plans", MonthlyPlan, "plan_id", "updated_at", ()),
        "daily_output": SqlTable("daily_output", DailyOutput, "record_id", "entered_at", ()),
    }


def _insert(connection: sqlite3.Connection, table: SqlTable, frame: pl.DataFrame) -> int:
    names = [column.name for column in fields(table.record_type)]
    hints = get_type_hints(table.record_type)
    definition = ", ".join(
        f"{name} {table.column_type('sqlite', name, _python_type(hints[name]))}"
        + (" primary key" if name == table.primary_key else "")
        for name in names
    )
    # Names come from the simulator's own dataclasses, never from input.
    connection.execute(f"create table if not exists {table.name} ({definition})")
    placeholders = ", ".join("?" * len(names))
    rows: Iterable[tuple] = frame.select(names).iter_rows()
    connection.executemany(
        f"insert into {table.name} ({', '.join(names)}) values ({placeholders})",  # noqa: S608
        rows,
    )
    return frame.height


def write(
    systems: ScaledSystems,
    database: Path,
    log_directory: Path,
    after: dt.datetime | None,
    until: dt.datetime,
) -> dict[str, int]:
    """Bring the register (SQLite at ``database``) and the log directory from their state at
    ``after`` (``None``: empty) to their state at ``until``; rows and lines added."""
    low = _cutoff(after) if after else ""
    high = _cutoff(until)
    added: dict[str, int] = {}
    database.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(database)
    try:
        for name, table in _tables().items():
            frame: pl.DataFrame = getattr(systems, name)
            entered = pl.col(table.version_column)
            window = frame.filter((entered > low) & (entered <= high))
            added[name] = _insert(connection, table, window)
        connection.commit()
    finally:
        connection.close()
    log_directory.mkdir(parents=True, exist_ok=True)
    stamp = pl.col("logged_at_utc").dt.strftime("%Y-%m-%d %H:%M:%S")
    lines = systems.event_lines.filter((stamp > low) & (stamp <= high))
    for (file_name,), part in lines.group_by("file_name", maintain_order=True):
        with (log_directory / str(file_name)).open("a", encoding="utf-8", newline="\n") as handle:
            handle.write("\n".join(part["text"].to_list()) + "\n")
    added["events"] = lines.height
    return added
