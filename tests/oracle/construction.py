"""Construction indicators, recomputed from the project register as it held it at the run's
instant (``simulator.construction.visible_at``: the latest version of each project; progress
reports, the highest revision of each project-month winning).

A project's months run from the month of its actual start to the earlier of its completion
month (register date, or the first report at 100 %) and the last month any contractor has
reported. A month without a report carries the project's last reported figures forward; months
before its first report have no figures. Completed: completion 100 % by the month.
Scheduled completion: the share of the planned period (planned start to planned completion,
both days counted) passed by the end of the month, to 0.001 %. Budget: the register's. Projects
sit in their district; enterprise rows are the contractor's projects in a district.

* ``con_projects_behind_schedule`` (sum, last): unfinished projects with figures whose
  completion is below the scheduled completion.
* ``con_budget_execution_pct`` (ratio, last): spent to date over budget, x 100, of the projects
  with figures.
* ``con_schedule_attainment_pct`` (ratio, last): budget-weighted completion over the
  budget-weighted scheduled completion, x 100, of the projects with figures.
* ``con_projects_not_reported`` (sum, last): active, unfinished projects without a report for
  the month.

Restated rows (``restated``, for the first three): the register updates a project in place, so
the run's extraction saw one version of each project, the latest entered by the run's instant.
A month is judged against the version entered by its end or, when none was seen by then, the
first version seen: here always that one version. The month is restated when that version was
entered (``updated_at``, in Aşgabat) after the month's last day. A published value is restated
when any project-month it is made of (the rows of the period's last month with data, under the
indicator's own population) is.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from simulator import construction
from simulator.processing import ASHGABAT
from tests.oracle.engine import KEYS, base_frame, rollup

PERIODS = ("month", "quarter", "year")


def _add_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _project_months(seed: int, as_of: dt.datetime) -> list[dict[str, object]]:
    visible = construction.visible_at(construction.generate(seed), as_of)
    reports: dict[tuple[int, dt.date], construction.ProgressReport] = {}
    for report in sorted(visible.progress_reports, key=lambda r: (r.revision, r.submitted_at)):
        reports[(report.project_id, dt.date.fromisoformat(report.report_month))] = report
    data_through = max(month for _, month in reports)
    rows: list[dict[str, object]] = []
    for project in visible.projects:
        if project.actual_start_date is None:
            continue
        start = dt.date.fromisoformat(project.planned_start_date)
        end = dt.date.fromisoformat(project.planned_completion_date)
        span = (end - start).days + 1
        finished = [
            m
            for (p, m), r in reports.items()
            if p == project.project_id and r.completion_pct >= 100
        ]
        last = data_through
        if project.actual_completion_date:
            last = min(last, dt.date.fromisoformat(project.actual_completion_date).replace(day=1))
        if finished:
            last = min(last, min(finished))
        entered = dt.datetime.fromisoformat(project.updated_at).replace(tzinfo=dt.UTC)
        entered_on = entered.astimezone(ASHGABAT).date()
        month = dt.date.fromisoformat(project.actual_start_date).replace(day=1)
        carried: construction.ProgressReport | None = None
        while month <= last:
            report = reports.get((project.project_id, month))
            carried = report or carried
            passed = min(max((_add_month(month) - start).days, 0), span)
            rows.append(
                {
                    "month": month,
                    "district": project.district_code,
                    "contractor": project.contractor_id,
                    "budget": project.budget_tmt,
                    "planned_pct": round(100 * passed / span, 3),
                    "reported": report is not None,
                    "completion": None if carried is None else carried.completion_pct,
                    "spent": None if carried is None else carried.spent_to_date_tmt,
                    "restated": entered_on >= _add_month(month),
                }
            )
            month = _add_month(month)
    return rows


def _base(rows: list[dict[str, object]], num: object, den: object = None) -> pl.DataFrame:
    return base_frame(
        [
            {
                "date": row["month"],
                "province": str(row["district"])[:4],
                "district": row["district"],
                "enterprise": f"construction_projects:{row['contractor']}",
                "num": num(row) if callable(num) else num,
                "den": den(row) if callable(den) else den,
            }
            for row in rows
        ]
    )


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    rows = _project_months(seed, as_of)
    with_figures = [r for r in rows if r["completion"] is not None]
    unfinished = [r for r in with_figures if float(r["completion"]) < 100]  # type: ignore[arg-type]
    settings = {
        "period_types": PERIODS,
        "time_aggregation": "last",
        "enterprise_rows": True,
    }
    return {
        "con_projects_behind_schedule": rollup(
            _base(unfinished, lambda r: float(r["completion"] < r["planned_pct"])),
            indicator_id="con_projects_behind_schedule",
            aggregation="sum",
            factor=1.0,
            **settings,
        ),
        "con_budget_execution_pct": rollup(
            _base(with_figures, lambda r: r["spent"], lambda r: r["budget"]),
            indicator_id="con_budget_execution_pct",
            aggregation="ratio",
            factor=100.0,
            **settings,
        ),
        "con_schedule_attainment_pct": rollup(
            _base(
                with_figures,
                lambda r: r["completion"] * r["budget"],
                lambda r: r["planned_pct"] * r["budget"],
            ),
            indicator_id="con_schedule_attainment_pct",
            aggregation="ratio",
            factor=100.0,
            **settings,
        ),
        "con_projects_not_reported": rollup(
            _base(
                [r for r in rows if r["completion"] is None or float(r["completion"]) < 100],  # type: ignore[arg-type]
                lambda r: float(not r["reported"]),
            ),
            indicator_id="con_projects_not_reported",
            aggregation="sum",
            factor=1.0,
            **settings,
        ),
    }


def restated(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    """``is_restated`` of every row of the construction indicators judged against the register."""
    rows = _project_months(seed, as_of)
    with_figures = [r for r in rows if r["completion"] is not None]
    unfinished = [r for r in with_figures if float(r["completion"]) < 100]  # type: ignore[arg-type]
    out = {}
    for indicator_id, population in (
        ("con_projects_behind_schedule", unfinished),
        ("con_budget_execution_pct", with_figures),
        ("con_schedule_attainment_pct", with_figures),
    ):
        counted = rollup(
            _base(population, lambda r: float(r["restated"])),
            indicator_id=indicator_id,
            period_types=PERIODS,
            aggregation="sum",
            factor=1.0,
            time_aggregation="last",
            enterprise_rows=True,
        )
        out[indicator_id] = counted.select(*KEYS, is_restated=pl.col("numerator") > 0)
    return out
