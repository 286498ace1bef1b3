"""The state construction project register, simulated (system ``construction_projects``).

The Ministry of Construction and Architecture keeps a register of the state's capital projects:
schools, kindergartens, hospitals, housing, roads, bridges, water pipelines and cultural and
sports centres, each with its customer, contractor, district, budget (thousand manats) and
planned start and completion dates; milestones with planned and actual dates; and the monthly
progress report each contractor submits early the next month (completion %, money spent to
date, workers on site). Projects and milestones are updated in place (``updated_at``): a project
is registered, starts, may have its budget revised, and is completed. The mess of the real
thing: reports submitted weeks late, reports resubmitted with corrected figures (a new row with
the next revision number), months for which a contractor never reported, projects running late.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, replace

from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from simulator.agriculture import REFERENCE_DIR
from simulator.construction_records import (
    CONTRACTORS,
    NAMES,
    OTHER_CONTRACTORS,
    PROJECT_COUNT,
    PROJECT_TYPES,
    REGISTER_OPENED,
    ROADS,
    TYPE_WEIGHTS,
    WATER,
    Contractor,
    Milestone,
    ProgressReport,
    Project,
)
from simulator.sql_database import SqlTable, demo_connection, local_moment, timestamp, write_tables

SYSTEM = "construction_projects"
LAST_MONTH = dt.date(2023, 12, 1)  # the last month the simulated register reaches


@dataclass(frozen=True)
class ConstructionSystem:
    contractors: list[Contractor]
    projects: list[Project]  # every version of every project, in the order entered
    milestones: list[Milestone]  # every version of every milestone
    progress_reports: list[ProgressReport]

    def tables(self) -> list[SqlTable]:
        return [
            SqlTable("contractors", Contractor, "contractor_id", "updated_at", self.contractors),
            SqlTable("projects", Project, "project_id", "updated_at", self.projects),
            SqlTable("milestones", Milestone, "milestone_id", "updated_at", self.milestones),
            SqlTable(
                "progress_reports",
                ProgressReport,
                "report_id",
                "submitted_at",
                self.progress_reports,
            ),
        ]


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(month: dt.date) -> dt.date:
    return _add_months(month, 1) - dt.timedelta(days=1)


def _smoothstep(share: float) -> float:
    """The S-curve of construction progress: slow start, fast middle, slow finishing."""
    share = min(max(share, 0.0), 1.0)
    return share * share * (3 - 2 * share)


def _inverse_smoothstep(level: float) -> float:
    low, high = 0.0, 1.0
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if _smoothstep(middle) < level else (low, middle)
    return (low + high) / 2


def _contractors() -> list[Contractor]:
    return [
        Contractor(n, name, ownership, ministry, district, country, "2005-01-01", REGISTER_OPENED)
        for n, (name, ownership, ministry, district, country) in enumerate(CONTRACTORS, start=1)
    ]


def generate(seed: int = DEFAULT_SEED) -> ConstructionSystem:
    """Every version of every record the register holds from 2021 to the end of 2023."""
    rng = random.Random(seed)
    with (REFERENCE_DIR / "ref_districts.csv").open(encoding="utf-8", newline="") as handle:
        districts = [row for row in csv.DictReader(handle) if not row["valid_to"]]
    contractors = _contractors()
    types = list(TYPE_WEIGHTS)
    versions: list[Project] = []
    milestone_drafts: list[Milestone] = []
    report_drafts: list[ProgressReport] = []
    counters: dict[int, int] = {}
    for project_id in range(1, PROJECT_COUNT + 1):
        project_type = rng.choices(types, weights=[TYPE_WEIGHTS[t] for t in types])[0]
        customer, (low, high), (short, long), milestone_codes = PROJECT_TYPES[project_type]
        district = rng.choice(districts)
        local = [
            c.contractor_id
            for c in contractors
            if c.district_code[:4] == district["province_code"] and c.supervising_ministry
        ]
        if project_type in ("road", "bridge"):
            contractor_id = ROADS
        elif project_type == "water_pipeline":
            contractor_id = WATER
        else:
            contractor_id = rng.choice([*local, *OTHER_CONTRACTORS])
        planned_start = _add_months(dt.date(2021, 3, 1), rng.randint(0, 32)) + dt.timedelta(
            days=rng.randint(0, 20)
        )
        planned_months = rng.randint(short, long)
        planned_completion = _add_months(planned_start, planned_months) - dt.timedelta(days=1)
        registered = planned_start - dt.timedelta(days=rng.randint(30, 90))
        year = registered.year
        counters[year] = counters.get(year, 0) + 1
        budget = round(rng.uniform(low, high), 0)
        project = Project(
            project_id=project_id,
            project_code=f"GB-{year}-{counters[year]:03d}",
            project_name=NAMES[project_type].format(district=district["name_tk"]),
            project_type=project_type,
            customer=customer,
            district_code=district["district_code"],
            contractor_id=contractor_id,
            budget_tmt=budget,
            planned_start_date=planned_start.isoformat(),
            planned_completion_date=planned_completion.isoformat(),
            actual_start_date=None,
            actual_completion_date=None,
            status="planned",
            updated_at=timestamp(local_moment(registered, rng.uniform(9, 17))),
        )
        versions.append(project)
        for sequence, code in enumerate(milestone_codes, start=1):
            share = sequence / len(milestone_codes)
            planned = planned_start + dt.timedelta(days=round(share * planned_months * 30.4) - 1)
            milestone_drafts.append(
                Milestone(
                    milestone_id=0,
                    project_id=project_id,
                    sequence_no=sequence,
                    milestone_code=code,
                    planned_date=min(planned, planned_completion).isoformat(),
                    actual_date=None,
                    updated_at=project.updated_at,
                )
            )
        # How the project really goes.
        start = planned_start + dt.timedelta(days=rng.randint(0, 45))
        delay = rng.choice([1.0, 1.0, 1.05, 1.1, 1.2, 1.3, 1.45])
        duration_days = planned_months * 30.4 * delay
        overrun = rng.choice([1.0, 1.0, 1.0, 1.04, 1.08, 1.15, 1.25])
        completion_day = start + dt.timedelta(days=round(duration_days))
        project = replace(
            project,
            actual_start_date=start.isoformat(),
            status="in_progress",
            updated_at=timestamp(local_moment(start, rng.uniform(9, 17))),
        )
        versions.append(project)
        revised_budget = round(budget * overrun, 0)
        revision_day = start + dt.timedelta(days=round(duration_days * _inverse_smoothstep(0.6)))
        if overrun > 1.0:  # the budget is revised when the overrun shows, at about 60 %
            project = replace(
                project,
                budget_tmt=revised_budget,
                planned_completion_date=max(
                    planned_completion, completion_day + dt.timedelta(days=30)
                ).isoformat(),
                updated_at=timestamp(local_moment(revision_day, rng.uniform(9, 17))),
            )
            versions.append(project)
        versions.append(
            replace(
                project,
                actual_completion_date=completion_day.isoformat(),
                status="completed",
                updated_at=timestamp(local_moment(completion_day, rng.uniform(9, 17))),
            )
        )
        for milestone in milestone_drafts[-len(milestone_codes) :]:
            share = milestone.sequence_no / len(milestone_codes)
            achieved = start + dt.timedelta(days=round(duration_days * _inverse_smoothstep(share)))
            if milestone.sequence_no == len(milestone_codes):
                achieved = completion_day
            milestone_drafts.append(
                replace(
                    milestone,
                    actual_date=achieved.isoformat(),
                    updated_at=timestamp(
                        local_moment(achieved + dt.timedelta(days=rng.randint(0, 3)), 16)
                    ),
                )
            )
        # Monthly reports from the start month to the completion month.
        peak_workers = max(20, round(budget / planned_months / 12))
        spent_factor, spent = 1.0, 0.0
        month = _month_start(start)
        while month <= min(_month_start(completion_day), LAST_MONTH):
            month_end = _month_end(month)
            elapsed = (min(month_end, completion_day) - start).days + 1
            completion = (
                100.0 if month_end >= completion_day else _smoothstep(elapsed / duration_days) * 100
            )
            spent_factor = max(spent_factor * rng.uniform(0.99, 1.01), 0.97)
            spent = max(spent, revised_budget * completion / 100 * min(spent_factor, 1.0))
            if rng.random() < 0.04 and completion < 100:
                month = _add_months(month, 1)  # the contractor never reported this month
                continue
            due = _add_months(month, 1) + dt.timedelta(days=rng.randint(1, 6))
            if rng.random() < 0.1:
                due += dt.timedelta(days=rng.randint(9, 20))  # reported weeks late
            submitted = local_moment(due, rng.uniform(9, 17.5))
            report = ProgressReport(
                report_id=0,
                project_id=project_id,
                report_month=month.isoformat(),
                revision=1,
                completion_pct=round(completion, 1),
                spent_to_date_tmt=round(spent, 1),
                workers_on_site=max(5, round(peak_workers * (0.3 + _bell(completion)))),
                submitted_at=timestamp(submitted),
            )
            report_drafts.append(report)
            if rng.random() < 0.05 and 0 < completion < 100:  # corrected figures sent later
                report_drafts.append(
                    replace(
                        report,
                        revision=2,
                        completion_pct=round(max(completion - rng.uniform(1, 4), 0), 1),
                        spent_to_date_tmt=round(spent * rng.uniform(0.96, 1.0), 1),
                        submitted_at=timestamp(
                            submitted + dt.timedelta(days=rng.randint(3, 15), hours=2)
                        ),
                    )
                )
            month = _add_months(month, 1)
    versions.sort(key=lambda v: (v.updated_at, v.project_id))
    milestone_ids: dict[tuple[int, int], int] = {}
    for milestone in sorted(milestone_drafts, key=lambda m: (m.updated_at, m.project_id)):
        milestone_ids.setdefault(
            (milestone.project_id, milestone.sequence_no), len(milestone_ids) + 1
        )
    milestones = sorted(
        (
            replace(m, milestone_id=milestone_ids[(m.project_id, m.sequence_no)])
            for m in milestone_drafts
        ),
        key=lambda m: (m.updated_at, m.milestone_id),
    )
    report_drafts.sort(key=lambda r: (r.submitted_at, r.project_id, r.report_month))
    reports = [replace(r, report_id=n) for n, r in enumerate(report_drafts, start=1)]
    return ConstructionSystem(contractors, versions, milestones, reports)


def _bell(completion: float) -> float:
    """Share of the peak workforce on site at this stage of the work."""
    return max(0.0, 1 - ((completion - 50) / 55) ** 2)


def visible_at(system: ConstructionSystem, as_of: dt.datetime) -> ConstructionSystem:
    """What the register holds at ``as_of``: the latest version of each row entered by then."""
    cutoff = timestamp(as_of)
    projects = {p.project_id: p for p in system.projects if p.updated_at <= cutoff}
    milestones = {m.milestone_id: m for m in system.milestones if m.updated_at <= cutoff}
    return ConstructionSystem(
        contractors=[c for c in system.contractors if c.updated_at <= cutoff],
        projects=list(projects.values()),
        milestones=list(milestones.values()),
        progress_reports=[r for r in system.progress_reports if r.submitted_at <= cutoff],
    )


def write(dsn: str, system: ConstructionSystem, as_of: dt.datetime) -> dict[str, int]:
    """Bring the register at ``dsn`` to ``as_of``; rows added or updated per table."""
    return write_tables(dsn, system.tables(), as_of)


def simulate(
    paths: MaglumatPaths, as_of: dt.datetime = DEFAULT_AS_OF, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Bring the demo's register (SQLite under ``<MAGLUMAT_HOME>/systems``) to ``as_of``."""
    paths.systems.mkdir(parents=True, exist_ok=True)
    return write(demo_connection(SYSTEM, paths), generate(seed), as_of)
