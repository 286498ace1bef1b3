"""Rolling base rows up to the grain of ``indicators.fct_indicator_values``.

Base rows (one per source record after the sector's own rules) carry: ``date`` (the period the
row belongs to: a day, or the first day of a month), ``province``, ``district`` (null when the
row is placed only in a province), ``enterprise`` (null when the indicator has no enterprise
rows), ``breakdown`` (null when none), ``num`` and ``den`` (floats, ``den`` null when the
indicator has no denominator) and ``entity`` (for per-entity and share-below-plan kinds).

Regions: every row counts for the country ('TM'), its province and, when it has one, its
district. Enterprise rows: the enterprise's district, or its province when it has no district.

Periods: day; week (ISO, from Monday); month; quarter; year; ytd (for each month of a year in
which the indicator has data, the months of that year up to it; period_start is that month);
campaign (handled by the agriculture module). Time aggregation ``last`` is the state at the
period's end: the rows of the last date in the period with data for the breakdown (so a region
or enterprise with no row that day, such as a project completed earlier, has no value for the
period); ``sum`` takes every row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

KEYS = [
    "indicator_id",
    "period_type",
    "period_start",
    "region_level",
    "region_id",
    "enterprise_id",
    "breakdown",
]
EXPECTED_SCHEMA = {
    "indicator_id": pl.String,
    "period_type": pl.String,
    "period_start": pl.Date,
    "region_level": pl.String,
    "region_id": pl.String,
    "enterprise_id": pl.String,
    "breakdown": pl.String,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
    "value": pl.Float64,
}
BASE_SCHEMA = {
    "date": pl.Date,
    "province": pl.String,
    "district": pl.String,
    "enterprise": pl.String,
    "breakdown": pl.String,
    "num": pl.Float64,
    "den": pl.Float64,
    "entity": pl.String,
}
GROUP = ["region_level", "region_id", "enterprise_id", "breakdown"]


def base_frame(rows: Sequence[dict[str, object]]) -> pl.DataFrame:
    """Base rows as a frame with every base column (missing ones null)."""
    records = [{name: row.get(name) for name in BASE_SCHEMA} for row in rows]
    return pl.DataFrame(records, schema=BASE_SCHEMA)


def empty_expected() -> pl.DataFrame:
    return pl.DataFrame(schema=EXPECTED_SCHEMA)


def with_regions(base: pl.DataFrame, *, enterprise_rows: bool) -> pl.DataFrame:
    """One row per region the base row counts for (and per enterprise row)."""
    country = base.with_columns(
        region_level=pl.lit("country"),
        region_id=pl.lit("TM"),
        enterprise_id=pl.lit(None, pl.String),
    )
    province = base.with_columns(
        region_level=pl.lit("province"),
        region_id=pl.col("province"),
        enterprise_id=pl.lit(None, pl.String),
    )
    district = base.filter(pl.col("district").is_not_null()).with_columns(
        region_level=pl.lit("district"),
        region_id=pl.col("district"),
        enterprise_id=pl.lit(None, pl.String),
    )
    frames = [country, province, district]
    if enterprise_rows:
        frames.append(
            base.filter(pl.col("enterprise").is_not_null()).with_columns(
                region_level=pl.when(pl.col("district").is_not_null())
                .then(pl.lit("district"))
                .otherwise(pl.lit("province")),
                region_id=pl.coalesce("district", "province"),
                enterprise_id=pl.col("enterprise"),
            )
        )
    return pl.concat(frames)


def period_start(period_type: str, day: pl.Expr) -> pl.Expr:
    if period_type == "day":
        return day
    if period_type == "week":
        return day - pl.duration(days=day.dt.weekday() - 1)
    if period_type == "month":
        return day.dt.truncate("1mo")
    if period_type == "quarter":
        return day.dt.truncate("1q")
    if period_type == "year":
        return day.dt.truncate("1y")
    raise ValueError(period_type)


def with_periods(
    frame: pl.DataFrame, period_types: Sequence[str], ytd_through: dt.date | None = None
) -> pl.DataFrame:
    """One row per period the row falls in (ytd: every month of the year from the row's month
    up to the last month the indicator has data in that year, or to ``ytd_through`` when the
    indicator reaches further than these rows)."""
    frames = []
    for period_type in period_types:
        if period_type == "ytd":
            months = frame.select(month=pl.col("date").dt.truncate("1mo")).unique()
            if ytd_through is not None:
                months = pl.concat([months, pl.DataFrame({"month": [ytd_through]})])
            last = months.group_by(year=pl.col("month").dt.year()).agg(pl.col("month").max())
            rows = frame.with_columns(
                row_month=pl.col("date").dt.truncate("1mo"), year=pl.col("date").dt.year()
            ).join(last.rename({"month": "last_month"}), on="year")
            spread = rows.with_columns(
                period_start=pl.date_ranges("row_month", "last_month", interval="1mo")
            ).explode("period_start")
            frames.append(
                spread.drop("row_month", "year", "last_month").with_columns(
                    period_type=pl.lit("ytd")
                )
            )
        else:
            frames.append(
                frame.with_columns(
                    period_type=pl.lit(period_type),
                    period_start=period_start(period_type, pl.col("date")),
                )
            )
    return pl.concat(frames, how="diagonal")


def keep_last(frame: pl.DataFrame) -> pl.DataFrame:
    """Only the rows of the period's last date with data (for each breakdown)."""
    keys = ["period_type", "period_start", "breakdown"]
    return frame.filter(pl.col("date") == pl.col("date").max().over(keys))


def rollup(
    base: pl.DataFrame,
    *,
    indicator_id: str,
    period_types: Sequence[str],
    aggregation: str,
    factor: float,
    time_aggregation: str = "sum",
    enterprise_rows: bool = False,
    percentile: float = 0.5,
    ytd_through: dt.date | None = None,
) -> pl.DataFrame:
    """The expected rows of one indicator from its base rows."""
    frame = with_periods(
        with_regions(base, enterprise_rows=enterprise_rows), period_types, ytd_through
    )
    if time_aggregation == "last":
        frame = keep_last(frame)
    keys = ["period_type", "period_start", *GROUP]
    if aggregation == "sum":
        out = (
            frame.group_by(keys)
            .agg(numerator=pl.col("num").sum())
            .with_columns(denominator=pl.lit(None, pl.Float64), value=factor * pl.col("numerator"))
        )
    elif aggregation == "ratio":
        out = (
            frame.group_by(keys)
            .agg(numerator=pl.col("num").sum(), denominator=pl.col("den").sum())
            .with_columns(value=ratio(pl.col("numerator"), pl.col("denominator"), factor))
        )
    elif aggregation == "per_entity":
        out = (
            frame.group_by(keys)
            .agg(
                numerator=pl.col("num").sum(),
                denominator=pl.col("entity").n_unique().cast(pl.Float64),
            )
            .with_columns(value=ratio(pl.col("numerator"), pl.col("denominator"), factor))
        )
    elif aggregation == "share_below_plan":
        entities = frame.group_by([*keys, "entity"]).agg(
            actual=pl.col("num").sum(), plan=pl.col("den").sum()
        )
        out = (
            entities.filter(pl.col("plan") > 0)
            .group_by(keys)
            .agg(
                numerator=(pl.col("actual") < pl.col("plan")).sum().cast(pl.Float64),
                denominator=pl.len().cast(pl.Float64),
            )
            .with_columns(value=ratio(pl.col("numerator"), pl.col("denominator"), factor))
        )
    elif aggregation == "percentile":
        out = (
            frame.group_by(keys)
            .agg(
                value=pl.col("num").quantile(percentile, interpolation="linear") * factor,
                denominator=pl.len().cast(pl.Float64),
            )
            .with_columns(numerator=pl.lit(None, pl.Float64))
        )
    else:
        raise ValueError(aggregation)
    return finish(out, indicator_id)


def ratio(numerator: pl.Expr, denominator: pl.Expr, factor: float) -> pl.Expr:
    return pl.when(denominator != 0).then(factor * numerator / denominator)


def finish(frame: pl.DataFrame, indicator_id: str) -> pl.DataFrame:
    """The expected frame in the published columns."""
    return frame.with_columns(indicator_id=pl.lit(indicator_id)).select(
        [pl.col(name).cast(dtype) for name, dtype in EXPECTED_SCHEMA.items()]
    )


def yoy_growth(
    base: pl.DataFrame,
    *,
    indicator_id: str,
    period_types: Sequence[str],
    factor: float,
) -> pl.DataFrame:
    """This period's sum over the sum of the same period a year before, up to the same day:
    the prior period is cut at the last date with data in this period (a year earlier), for the
    indicator as a whole."""
    frame = with_periods(with_regions(base, enterprise_rows=False), period_types)
    keys = ["period_type", "period_start", *GROUP]
    current = frame.group_by(keys).agg(numerator=pl.col("num").sum())
    reach = frame.group_by("period_type", "period_start").agg(reach=pl.col("date").max())
    prior = (
        frame.with_columns(period_start=pl.col("period_start").dt.offset_by("1y"))
        .join(reach, on=["period_type", "period_start"])
        .filter(pl.col("date").dt.offset_by("1y") <= pl.col("reach"))
        .group_by(keys)
        .agg(denominator=pl.col("num").sum())
    )
    out = current.join(prior, on=keys, how="left", nulls_equal=True).with_columns(
        value=pl.when(pl.col("denominator") != 0).then(
            factor * (pl.col("numerator") / pl.col("denominator") - 1)
        )
    )
    return finish(out, indicator_id)


def iso_day(value: str | dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value[:10])
