"""Agriculture campaign indicators, recomputed from the campaign database's records as it held
them at the run's instant (``simulator.agriculture.generate`` + ``visible_at``).

Definitions:

* done: a district's amount (harvested tonnes; sown ha for sowing) of each report day, the
  latest submitted correction of each district-day winning; cumulative from its province's
  campaign start (``campaign_calendar.csv``) through the day;
* plan: the state order in force on the day (the newest version approved by then) of the
  campaign's order year and crop (tonnes; area for sowing), for **every** district under the
  level, whether or not its province's campaign has started;
* the day series runs from the campaign's earliest province start to its last reported day;
  every district with a plan has a row every day of it (0 done before its province starts);
* ``agr_campaign_progress_pct`` (ratio): 100 x done / plan; week, month and campaign periods
  take the last day of the series in the period; the campaign period starts on its first day;
* ``agr_required_daily_rate`` (precomputed): remaining = sum over the districts under the level
  of max(plan - done, 0); days left = planned end - day, the planned end being the province's,
  and for the country the latest province's; value 0 when nothing remains, remaining / days
  left while days are left, null once the planned end is reached with plan remaining
  (denominator: days left, null once none are);
* ``agr_lagging_districts`` (sum): districts whose province's campaign has started and whose
  exact progress ratio is below the country's exact ratio less 10 percentage points (strictly);
  every district, province and the country has a row, 0 when none lags;
* ``agr_reporting_completeness_pct`` (ratio, summed over every day of the period): the
  district-days on which a report was owed, per campaign. A district owes a report from its
  province's start through the province's planned end, and past that end on every day up to
  the last day it reported itself; it owes none on a day when its cumulative amount through the
  previous day had already reached the plan in force (a district that is finished stops
  reporting). The numerator counts the owed district-days for which at least one report (the
  first one or any correction) exists. Days, weeks and months as above; the campaign period
  starts on the campaign's first day; levels are the district, its province and the country.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import polars as pl

from simulator import agriculture
from tests.oracle.engine import base_frame, finish, rollup

PERIODS = ("day", "week", "month", "campaign")


@dataclass(frozen=True)
class DistrictDay:
    campaign_id: str
    day: dt.date
    province: str
    district: str
    done: float
    plan: float
    started: bool
    planned_end: dt.date


def district_days(seed: int, as_of: dt.datetime) -> list[DistrictDay]:
    visible = agriculture.visible_at(agriculture.generate(seed), as_of)
    latest: dict[tuple[str, str, str, str], agriculture.DailyReport] = {}
    for report in sorted(visible.daily_reports, key=lambda r: (r.submitted_at, r.report_id)):
        key = (report.district_code, report.crop, report.operation, report.report_date)
        latest[key] = report
    rows: list[DistrictDay] = []
    for campaign in agriculture.campaigns():
        amounts: dict[tuple[str, dt.date], float] = defaultdict(float)
        for (district, crop, operation, day), report in latest.items():
            if crop == campaign.crop and operation == campaign.operation:
                amount = report.sown_ha if operation == "sowing" else report.harvested_tonnes
                amounts[(district, dt.date.fromisoformat(day))] += amount
        if not amounts:
            continue
        first = min(campaign.starts.values())
        last = max(day for _, day in amounts)
        orders = sorted(
            (
                o
                for o in visible.state_orders
                if o.order_year == campaign.order_year and o.crop == campaign.crop
            ),
            key=lambda o: (o.version, o.approved_on),
        )
        districts = sorted({o.district_code for o in orders})
        day = first
        while day <= last:
            for district in districts:
                province = district[:4]
                in_force = [
                    o
                    for o in orders
                    if o.district_code == district and dt.date.fromisoformat(o.approved_on) <= day
                ]
                if not in_force or province not in campaign.starts:
                    continue
                order = in_force[-1]
                plan = order.plan_area_ha if campaign.operation == "sowing" else order.plan_tonnes
                start = campaign.starts[province]
                done = sum(
                    amount
                    for (code, when), amount in amounts.items()
                    if code == district and start <= when <= day
                )
                rows.append(
                    DistrictDay(
                        campaign.campaign_id,
                        day,
                        province,
                        district,
                        done,
                        plan,
                        day >= start,
                        campaign.planned_end[province],
                    )
                )
            day += dt.timedelta(days=1)
    return rows


def _level_rows(rows: list[DistrictDay]) -> pl.DataFrame:
    """Per campaign, day and region: done, plan, remaining, planned end, lagging count."""
    frame = pl.DataFrame(
        [
            {
                "campaign_id": r.campaign_id,
                "day": r.day,
                "province": r.province,
                "district": r.district,
                "done": r.done,
                "plan": r.plan,
                "started": r.started,
                "planned_end": r.planned_end,
            }
            for r in rows
        ]
    )
    country = frame.group_by("campaign_id", "day").agg(
        country_done=pl.col("done").sum(), country_plan=pl.col("plan").sum()
    )
    frame = frame.join(country, on=["campaign_id", "day"]).with_columns(
        remaining=(pl.col("plan") - pl.col("done")).clip(lower_bound=0.0),
        lagging=(
            pl.col("started")
            & (
                pl.col("done") / pl.col("plan")
                < pl.col("country_done") / pl.col("country_plan") - 0.10
            )
        ).cast(pl.Float64),
    )
    levels = []
    for level, region in (
        ("country", pl.lit("TM")),
        ("province", pl.col("province")),
        ("district", pl.col("district")),
    ):
        levels.append(
            frame.with_columns(region_level=pl.lit(level), region_id=region)
            .group_by("campaign_id", "day", "region_level", "region_id")
            .agg(
                done=pl.col("done").sum(),
                plan=pl.col("plan").sum(),
                remaining=pl.col("remaining").sum(),
                planned_end=pl.col("planned_end").max(),
                lagging=pl.col("lagging").sum(),
            )
        )
    return pl.concat(levels)


def _last_of_periods(levels: pl.DataFrame) -> pl.DataFrame:
    """Each period's last day (day, ISO week, month, campaign) per campaign and region."""
    frames = []
    first = levels.group_by("campaign_id").agg(campaign_start=pl.col("day").min())
    with_first = levels.join(first, on="campaign_id")
    for period_type in PERIODS:
        if period_type == "day":
            start = pl.col("day")
        elif period_type == "week":
            start = pl.col("day") - pl.duration(days=pl.col("day").dt.weekday() - 1)
        elif period_type == "month":
            start = pl.col("day").dt.truncate("1mo")
        else:
            start = pl.col("campaign_start")
        frames.append(with_first.with_columns(period_type=pl.lit(period_type), period_start=start))
    spread = pl.concat(frames).drop("campaign_start")
    keys = ["campaign_id", "period_type", "period_start", "region_level", "region_id"]
    return spread.filter(pl.col("day") == pl.col("day").max().over(keys))


def _shape(frame: pl.DataFrame, indicator_id: str) -> pl.DataFrame:
    return finish(
        frame.with_columns(enterprise_id=pl.lit(None, pl.String), breakdown=pl.col("campaign_id")),
        indicator_id,
    )


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    """Expected rows of the agriculture indicators, by indicator."""
    last = _last_of_periods(_level_rows(district_days(seed, as_of)))
    progress = last.with_columns(
        numerator=pl.col("done"),
        denominator=pl.col("plan"),
        value=pl.when(pl.col("plan") != 0).then(100 * pl.col("done") / pl.col("plan")),
    )
    days_left = (pl.col("planned_end") - pl.col("day")).dt.total_days().cast(pl.Float64)
    rate = last.with_columns(
        numerator=pl.col("remaining"),
        denominator=pl.when(days_left > 0).then(days_left),
        value=pl.when(pl.col("remaining") == 0)
        .then(0.0)
        .when(days_left > 0)
        .then(pl.col("remaining") / days_left),
    )
    lagging = last.with_columns(
        numerator=pl.col("lagging"),
        denominator=pl.lit(None, pl.Float64),
        value=pl.col("lagging"),
    )
    return {
        "agr_campaign_progress_pct": _shape(progress, "agr_campaign_progress_pct"),
        "agr_required_daily_rate": _shape(rate, "agr_required_daily_rate"),
        "agr_lagging_districts": _shape(lagging, "agr_lagging_districts"),
    }


def planned_path(seed: int, as_of: dt.datetime) -> pl.DataFrame:
    """The planned path of ``agr_campaign_progress_pct`` by campaign, day and region.

    Each district's path runs evenly from nothing on the day before its province's start to its
    whole plan on the province's planned end (both days counted); a level's path is the sum of
    its districts' paths over the sum of their plans, x 100. The status is judged against it:
    green from 95 % of the path, amber from 85 %, none while the path is 0.
    """
    calendar = {campaign.campaign_id: campaign for campaign in agriculture.campaigns()}
    rows = []
    for row in district_days(seed, as_of):
        campaign = calendar[row.campaign_id]
        start = campaign.starts[row.province]
        days = (campaign.planned_end[row.province] - start).days + 1
        share = min(max(((row.day - start).days + 1) / days, 0.0), 1.0)
        for level, region in (
            ("country", "TM"),
            ("province", row.province),
            ("district", row.district),
        ):
            rows.append(
                {
                    "breakdown": row.campaign_id,
                    "period_start": row.day,
                    "region_level": level,
                    "region_id": region,
                    "path": row.plan * share,
                    "plan": row.plan,
                    "done": row.done,
                }
            )
    levels = (
        pl.DataFrame(rows)
        .group_by("breakdown", "period_start", "region_level", "region_id")
        .agg(pl.col("path").sum(), pl.col("plan").sum(), pl.col("done").sum())
        .with_columns(
            expected_target=pl.when(pl.col("plan") > 0).then(100 * pl.col("path") / pl.col("plan"))
        )
    )
    basis = 100 * (pl.col("done") / pl.col("plan") * 100) / pl.col("expected_target")
    return levels.with_columns(
        expected_status=pl.when(
            pl.col("expected_target").is_null() | (pl.col("expected_target") == 0)
        )
        .then(None)
        .when(basis >= 95)
        .then(pl.lit("green"))
        .when(basis >= 85)
        .then(pl.lit("amber"))
        .otherwise(pl.lit("red"))
    )


def reporting_completeness(seed: int, as_of: dt.datetime) -> pl.DataFrame:
    """Expected rows of ``agr_reporting_completeness_pct``."""
    visible = agriculture.visible_at(agriculture.generate(seed), as_of)
    calendar = {campaign.campaign_id: campaign for campaign in agriculture.campaigns()}
    reported: set[tuple[str, str, dt.date]] = set()
    last_reported: dict[tuple[str, str], dt.date] = {}
    for campaign in calendar.values():
        for report in visible.daily_reports:
            if report.crop != campaign.crop or report.operation != campaign.operation:
                continue
            day = dt.date.fromisoformat(report.report_date)
            reported.add((campaign.campaign_id, report.district_code, day))
            key = (campaign.campaign_id, report.district_code)
            last_reported[key] = max(last_reported.get(key, day), day)
    rows = district_days(seed, as_of)
    done_by = {(r.campaign_id, r.district, r.day): r.done for r in rows}
    base = []
    for row in rows:
        campaign = calendar[row.campaign_id]
        start = campaign.starts[row.province]
        own_last = last_reported.get((row.campaign_id, row.district))
        in_window = row.day <= row.planned_end or (own_last is not None and row.day <= own_last)
        before = done_by.get((row.campaign_id, row.district, row.day - dt.timedelta(days=1)), 0.0)
        if row.day < start or not in_window or before >= row.plan:
            continue
        got = (row.campaign_id, row.district, row.day) in reported
        base.append(
            {
                "date": row.day,
                "province": row.province,
                "district": row.district,
                "breakdown": row.campaign_id,
                "num": float(got),
                "den": 1.0,
            }
        )
    frame = base_frame(base)
    starts = pl.DataFrame(
        {
            "breakdown": list(calendar),
            "campaign_start": [min(c.starts.values()) for c in calendar.values()],
        }
    )
    settings = {
        "indicator_id": "agr_reporting_completeness_pct",
        "aggregation": "ratio",
        "factor": 100.0,
    }
    by_day = rollup(frame, period_types=("day", "week", "month"), **settings)
    whole = rollup(
        frame.join(starts, on="breakdown")
        .with_columns(date=pl.col("campaign_start"))
        .drop("campaign_start"),
        period_types=("day",),
        **settings,
    ).with_columns(period_type=pl.lit("campaign"))
    return pl.concat([by_day, whole])
