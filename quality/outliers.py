"""Outliers against a group's own history, as DHIS2 flags them.

Two kinds of rule: the modified z-score (Iglewicz and Hoaglin) of a value against the median of
its group (a district's earlier reports, a plant's earlier months; all of them, or a rolling
window of the latest), robust to the outliers it is looking for; and, for seasonal series, the
ratio of a value to the same group's value in the same period a year before."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from quality.suites import OutlierRule

# 0.6745 makes the median absolute deviation comparable to a standard deviation; when over half
# of a group's values are equal (MAD 0) the mean absolute deviation stands in, scaled by 1.2533.
MAD_SCALE = 0.6745
MEAN_AD_SCALE = 1.2533


@dataclass(frozen=True)
class Outlier:
    row_number: int  # 1-based row of the landed batch
    value: float
    median: float
    zscore: float  # the modified z-score, or for a seasonal rule the ratio to last year


def find_outliers(batch: pl.DataFrame, history: pl.DataFrame, rule: OutlierRule) -> list[Outlier]:
    """Rows of ``batch`` whose ``rule.column`` is more than ``rule.threshold`` modified z-scores
    from the median of the same group in ``history`` (groups with too little history pass)."""
    keys = list(rule.group_by)
    if batch.height == 0 or history.height == 0:
        return []
    if rule.per:
        batch, history = (_per(frame, rule) for frame in (batch, history))
    if rule.period:
        return _against_last_year(batch, history, rule)
    if rule.method == "ratio":
        return _against_recent_median(batch, history, rule)
    known = history.filter(_judged(rule))
    if rule.window and rule.order_by:
        known = _latest(known, rule)
    statistics = (
        known.group_by(keys)
        .agg(
            pl.col(rule.column).median().alias("_median"),
            pl.col(rule.column).count().alias("_count"),
            pl.col(rule.column).alias("_values"),
        )
        .filter(pl.col("_count") >= rule.min_history)
        .with_columns(
            pl.col("_values")
            .list.eval((pl.element() - pl.element().median()).abs().median())
            .list.first()
            .alias("_mad"),
            pl.col("_values")
            .list.eval((pl.element() - pl.element().mean()).abs().mean())
            .list.first()
            .alias("_mean_ad"),
        )
        .drop("_values")
    )
    scored = (
        batch.with_row_index("_row", offset=1)
        .select("_row", *keys, rule.column)
        .join(statistics, on=keys, how="inner")
        .with_columns(
            pl.when(pl.col("_mad") > 0)
            .then(MAD_SCALE * (pl.col(rule.column) - pl.col("_median")) / pl.col("_mad"))
            .when(pl.col("_mean_ad") > 0)
            .then((pl.col(rule.column) - pl.col("_median")) / (MEAN_AD_SCALE * pl.col("_mean_ad")))
            .otherwise(None)
            .alias("_zscore")
        )
        .filter(pl.col("_zscore").abs() > rule.threshold)
        .sort("_row")
    )
    return [
        Outlier(int(row["_row"]), float(row[rule.column]), float(row["_median"]), row["_zscore"])
        for row in scored.iter_rows(named=True)
    ]


def _against_last_year(
    batch: pl.DataFrame, history: pl.DataFrame, rule: OutlierRule
) -> list[Outlier]:
    """Rows whose value is more than ``max_ratio`` times (or less than 1/``max_ratio`` of) the
    median of the same group in the same period one year earlier."""
    keys = list(rule.group_by)
    period = str(rule.period)
    last_year = (
        history.filter(pl.col(rule.column).is_not_null() & (pl.col(rule.column) > 0))
        .with_columns(pl.col(period).dt.offset_by("1y").alias("_period"))
        .group_by([*keys, "_period"])
        .agg(pl.col(rule.column).median().alias("_median"))
    )
    scored = (
        batch.with_row_index("_row", offset=1)
        .with_columns(pl.col(period).alias("_period"))
        .select("_row", *keys, "_period", rule.column)
        .join(last_year, on=[*keys, "_period"], how="inner")
        .with_columns((pl.col(rule.column) / pl.col("_median")).alias("_ratio"))
        .filter((pl.col("_ratio") > rule.max_ratio) | (pl.col("_ratio") < rule.lowest_ratio))
        .sort("_row")
    )
    return [
        Outlier(int(row["_row"]), float(row[rule.column]), float(row["_median"]), row["_ratio"])
        for row in scored.iter_rows(named=True)
    ]


def _per(frame: pl.DataFrame, rule: OutlierRule) -> pl.DataFrame:
    """The rule's column divided by its companion (null where the companion is not positive)."""
    per = str(rule.per)
    return frame.with_columns(
        pl.when(pl.col(per) > 0)
        .then(pl.col(rule.column).cast(pl.Float64) / pl.col(per))
        .otherwise(None)
        .alias(rule.column)
    )


def _against_recent_median(
    batch: pl.DataFrame, history: pl.DataFrame, rule: OutlierRule
) -> list[Outlier]:
    """Rows whose value is more than ``max_ratio`` times (or less than 1/``max_ratio`` of) the
    median of the group's last ``window`` positive values: a slip of the pen multiplies or
    divides, whatever the series' own spread. Zero (a plant stopped) is never judged."""
    keys = list(rule.group_by)
    recent = (
        _latest(history.filter(_judged(rule)), rule)
        .group_by(keys)
        .agg(
            pl.col(rule.column).median().alias("_median"),
            pl.col(rule.column).count().alias("_count"),
        )
        .filter(pl.col("_count") >= rule.min_history)
    )
    scored = (
        batch.with_row_index("_row", offset=1)
        .select("_row", *keys, rule.column)
        .filter(pl.col(rule.column) > 0)
        .join(recent, on=keys, how="inner")
        .with_columns((pl.col(rule.column) / pl.col("_median")).alias("_ratio"))
        .filter((pl.col("_ratio") > rule.max_ratio) | (pl.col("_ratio") < rule.lowest_ratio))
        .sort("_row")
    )
    return [
        Outlier(int(row["_row"]), float(row[rule.column]), float(row["_median"]), row["_ratio"])
        for row in scored.iter_rows(named=True)
    ]


def _judged(rule: OutlierRule) -> pl.Expr:
    """The history values a rule compares with: not null, and for a ratio rule positive."""
    value = pl.col(rule.column)
    return value.is_not_null() & (value > 0) if rule.method == "ratio" else value.is_not_null()


def _latest(values: pl.DataFrame, rule: OutlierRule) -> pl.DataFrame:
    """Each group's last ``rule.window`` values by ``rule.order_by`` (ties in table order)."""
    return (
        values.sort(str(rule.order_by), maintain_order=True)
        .group_by(list(rule.group_by), maintain_order=True)
        .tail(int(rule.window or 0))
    )


def reads_all_history(rules: Sequence[OutlierRule]) -> bool:
    """Whether some rule reads a group's whole history (no rolling window, or last year's
    period), so that no loaded row can be set aside."""
    return any(rule.period or not (rule.window and rule.order_by) for rule in rules)


def within_reach(history: pl.DataFrame, rules: Sequence[OutlierRule]) -> pl.DataFrame:
    """The rows of ``history`` that ``rules`` can still read: for rolling rules, each group's
    last ``window`` judged values, in table order. A batch judged against them gets the verdict
    it gets against the whole history; rows that later batches push out of every window are
    never read again, so the gate's cost follows the groups, not the years loaded."""
    if not rules or reads_all_history(rules) or history.height == 0:
        return history
    indexed = history.with_row_index("_reach")
    kept = pl.concat(
        [
            _latest(
                (_per(indexed, rule) if rule.per else indexed).filter(_judged(rule)), rule
            ).get_column("_reach")
            for rule in rules
        ]
    ).unique()
    return indexed.filter(pl.col("_reach").is_in(kept)).drop("_reach")


def replay(rows: pl.DataFrame, rule: OutlierRule, last_periods: int | None = None) -> list[Outlier]:
    """The alarms ``rule`` raises on a table's loaded rows when each period (by the rule's
    ``order_by`` or ``period`` column) is judged against the periods before it, as daily runs
    would have: a rule's thresholds are tuned so that a normal season raises none.
    ``last_periods`` judges only the latest ones. Row numbers are positions in ``rows``."""
    time = str(rule.period or rule.order_by)
    ordered = rows.with_row_index("_position", offset=1)
    periods = ordered.get_column(time).drop_nulls().unique().sort()
    if last_periods is not None:
        periods = periods.tail(last_periods)
    alarms = []
    for period in periods.to_list():
        batch = ordered.filter(pl.col(time) == period)
        history = ordered.filter(pl.col(time) < period)
        for outlier in find_outliers(batch.drop("_position"), history, rule):
            position = int(batch.get_column("_position")[outlier.row_number - 1])
            alarms.append(Outlier(position, outlier.value, outlier.median, outlier.zscore))
    return alarms
