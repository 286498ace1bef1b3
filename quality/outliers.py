"""Outliers against a group's own history, as DHIS2 flags them: the modified z-score
(Iglewicz and Hoaglin) of a value against the median of its group (a district's earlier
reports, a plant's earlier months), robust to the outliers it is looking for."""

from __future__ import annotations

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
    zscore: float


def find_outliers(batch: pl.DataFrame, history: pl.DataFrame, rule: OutlierRule) -> list[Outlier]:
    """Rows of ``batch`` whose ``rule.column`` is more than ``rule.threshold`` modified z-scores
    from the median of the same group in ``history`` (groups with too little history pass)."""
    keys = list(rule.group_by)
    if batch.height == 0 or history.height == 0:
        return []
    statistics = (
        history.filter(pl.col(rule.column).is_not_null())
        .group_by(keys)
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
