"""The construction project register: realistic simulated projects and progress, rows updated in
place read incrementally by the ``sql`` kind from SQLite (the demo) and the real PostgreSQL,
history kept in raw, and the monthly progress fact against an independent computation."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from maglumat.catalogue import load_catalogue
from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.landing import list_batches, read_batch
from simulator import construction
from tests.support import dbt_build

SYSTEM = next(s for s in load_catalogue() if s.name == "construction_projects")
AS_OF = DEFAULT_AS_OF
MARCH = dt.datetime(2023, 3, 1, 6, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def register() -> construction.ConstructionSystem:
    return construction.generate()


def test_same_seed_same_records(register: construction.ConstructionSystem) -> None:
    assert construction.generate() == register
    assert construction.generate(8).projects != register.projects


def test_projects_are_the_countrys_kind(register: construction.ConstructionSystem) -> None:
    visible = construction.visible_at(register, AS_OF)
    assert {p.status for p in visible.projects} == {"planned", "in_progress", "completed"}
    assert 5_000_000 < sum(p.budget_tmt for p in visible.projects) < 20_000_000  # thousand TMT
    first_versions: dict[int, construction.Project] = {}
    for project in register.projects:
        first_versions.setdefault(project.project_id, project)
        low, high = construction.PROJECT_TYPES[project.project_type][1]
        assert low <= first_versions[project.project_id].budget_tmt <= high
        assert project.budget_tmt >= first_versions[project.project_id].budget_tmt
        assert project.planned_completion_date > project.planned_start_date
    assert len(first_versions) == construction.PROJECT_COUNT
    assert any(p.budget_tmt > first_versions[p.project_id].budget_tmt for p in register.projects), (
        "some budgets are revised"
    )


def test_progress_reports_carry_the_mess_of_a_real_register(
    register: construction.ConstructionSystem,
) -> None:
    by_project: dict[int, list[construction.ProgressReport]] = defaultdict(list)
    for report in register.progress_reports:
        by_project[report.project_id].append(report)
    gaps = 0
    for reports in by_project.values():
        firsts = sorted((r for r in reports if r.revision == 1), key=lambda r: r.report_month)
        completions = [r.completion_pct for r in firsts]
        assert completions == sorted(completions), "work done is never undone"
        spent = [r.spent_to_date_tmt for r in firsts]
        assert spent == sorted(spent)
        months = [dt.date.fromisoformat(r.report_month) for r in firsts]
        gaps += sum(
            (later.year - earlier.year) * 12 + later.month - earlier.month > 1
            for earlier, later in itertools.pairwise(months)
        )
    assert gaps > 0, "some months are never reported"
    assert any(r.revision == 2 for r in register.progress_reports), "reports are resubmitted"
    late = [
        r for r in register.progress_reports if r.revision == 1 and int(r.submitted_at[8:10]) > 12
    ]
    assert late, "some reports come weeks late"
    # Projects finished within the register's span report 100 % for the month they finished.
    completed = {
        p.project_id
        for p in register.projects
        if p.actual_completion_date and p.actual_completion_date < "2023-12-01"
    }
    assert completed
    for project_id in completed:
        final = max(by_project[project_id], key=lambda r: r.report_month)
        assert final.completion_pct == 100.0


def test_simulate_updates_rows_in_place(
    maglumat_home: MaglumatPaths, register: construction.ConstructionSystem
) -> None:
    first = construction.simulate(maglumat_home, MARCH)
    later = construction.simulate(maglumat_home, AS_OF)
    in_march = {p.project_id: p for p in construction.visible_at(register, MARCH).projects}
    in_october = {p.project_id: p for p in construction.visible_at(register, AS_OF).projects}
    assert first["projects"] == len(in_march)
    assert later["projects"] == sum(
        1 for key, project in in_october.items() if in_march.get(key) != project
    )
    assert construction.simulate(maglumat_home, AS_OF) == dict.fromkeys(later, 0)


def _land_and_gate(paths: MaglumatPaths) -> None:
    for table in SYSTEM.tables:
        extract_to_landing(paths, SYSTEM, table)
        for load in gate_and_load(paths, SYSTEM, table).loads:
            assert load.status == "loaded", (table.name, load)


def _raw(paths: MaglumatPaths, sql: str) -> list[tuple]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _assert_history_in_raw(paths: MaglumatPaths, register: construction.ConstructionSystem) -> None:
    """Reports as the register holds them; every project version read on either day."""
    reports = _raw(
        paths,
        "select report_id, completion_pct, spent_to_date_tmt"
        " from raw.construction_projects__progress_reports",
    )
    visible = construction.visible_at(register, AS_OF)
    assert sorted(reports) == sorted(
        (r.report_id, r.completion_pct, r.spent_to_date_tmt) for r in visible.progress_reports
    )
    versions = _raw(
        paths,
        "select project_id, budget_tmt, status, strftime(updated_at, '%Y-%m-%d %H:%M:%S')"
        " from raw.construction_projects__projects",
    )
    in_march = construction.visible_at(register, MARCH).projects
    expected = {(p.project_id, p.budget_tmt, p.status, p.updated_at) for p in in_march}
    expected |= {(p.project_id, p.budget_tmt, p.status, p.updated_at) for p in visible.projects}
    assert sorted(versions) == sorted(expected)
    (second,) = list_batches(paths.landing, SYSTEM.name, "projects")[1:]
    changed = {p.project_id for p in visible.projects if p not in in_march}
    assert set(read_batch(paths.landing, second)["project_id"].to_list()) == changed


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, register: construction.ConstructionSystem
) -> MaglumatPaths:
    """The demo register (SQLite, the catalogue default) read in March and on the demo day."""
    paths = MaglumatPaths(home=tmp_path_factory.mktemp("construction") / "maglumat")
    paths.ensure()
    dsn = construction.demo_connection(SYSTEM.name, paths)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        patch.delenv(SYSTEM.connection_env, raising=False)
        construction.write(dsn, register, MARCH)
        _land_and_gate(paths)
        construction.write(dsn, register, AS_OF)
        _land_and_gate(paths)
    return paths


def test_sqlite_reads_changed_rows_and_raw_keeps_every_version(
    demo: MaglumatPaths, register: construction.ConstructionSystem
) -> None:
    _assert_history_in_raw(demo, register)
    contractors = list_batches(demo.landing, SYSTEM.name, "contractors")
    assert len(contractors) == 1, "an unchanged full table lands once"


@pytest.mark.postgres
def test_postgresql_with_the_sql_kind(
    postgres_dsn: str,
    maglumat_home: MaglumatPaths,
    register: construction.ConstructionSystem,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SYSTEM.connection_env, postgres_dsn)
    construction.write(postgres_dsn, register, MARCH)
    _land_and_gate(maglumat_home)
    construction.write(postgres_dsn, register, AS_OF)
    _land_and_gate(maglumat_home)
    _assert_history_in_raw(maglumat_home, register)
    (first, second) = list_batches(maglumat_home.landing, SYSTEM.name, "progress_reports")
    assert second.cursor_from == first.cursor_to
    landed = read_batch(maglumat_home.landing, second)
    assert str(landed.schema["report_month"]) == "Date"
    assert min(landed["submitted_at"]).isoformat(" ") > "2023-03-01 06:00:00"


def _month(day: dt.date, add: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + add
    return dt.date(index // 12, index % 12 + 1, 1)


def _local_date(utc_text: str) -> dt.date:
    return (dt.datetime.fromisoformat(utc_text) + dt.timedelta(hours=5)).date()


def _expected_progress(
    register: construction.ConstructionSystem,
) -> dict[tuple[int, str], tuple[float | None, float | None, float, bool]]:
    """(project, YYYY-MM) -> (completion %, spent to date, budget in force, reported), from the
    reports as of the demo day and the project versions read in March and on the demo day.

    A project runs from the month it started by the register (or its first report, if earlier)
    to the month it was complete by either account (the register's completion date or its first
    report at 100 %); months before its first report have no figures."""
    visible = construction.visible_at(register, AS_OF)
    latest: dict[tuple[int, str], construction.ProgressReport] = {}
    for report in sorted(visible.progress_reports, key=lambda r: (r.revision, r.submitted_at)):
        latest[(report.project_id, report.report_month)] = report
    through = dt.date.fromisoformat(max(month for _, month in latest))
    versions: dict[int, list[construction.Project]] = defaultdict(list)
    for project in construction.visible_at(register, MARCH).projects + visible.projects:
        if project not in versions[project.project_id]:
            versions[project.project_id].append(project)
    expected = {}
    for project_id in {key[0] for key in latest}:
        months = sorted(month for key, month in latest if key == project_id)
        current = max(versions[project_id], key=lambda p: p.updated_at)
        completed = [m for m in months if latest[(project_id, m)].completion_pct >= 100]
        end = through
        if current.actual_completion_date:
            end = min(end, _month(dt.date.fromisoformat(current.actual_completion_date)))
        if completed:
            end = min(end, dt.date.fromisoformat(completed[0]))
        month = dt.date.fromisoformat(months[0])
        if current.actual_start_date:
            month = min(month, _month(dt.date.fromisoformat(current.actual_start_date)))
        completion: float | None = None
        spent: float | None = None
        while month <= end:
            report = latest.get((project_id, month.isoformat()))
            if report is not None:
                completion, spent = report.completion_pct, report.spent_to_date_tmt
            before = [
                p for p in versions[project_id] if _local_date(p.updated_at) < _month(month, 1)
            ]
            in_force = (
                max(before, key=lambda p: p.updated_at)
                if before
                else min(versions[project_id], key=lambda p: p.updated_at)
            )
            expected[(project_id, month.isoformat()[:7])] = (
                completion,
                spent,
                in_force.budget_tmt,
                report is not None,
            )
            month = _month(month, 1)
    return expected


@pytest.mark.slow
def test_progress_fact_matches_independent_computation(
    demo: MaglumatPaths, register: construction.ConstructionSystem, tmp_path: Path
) -> None:
    dbt_build(demo, ["+fct_construction_progress_monthly", "+dim_dates"], tmp_path)
    rows = _raw(
        demo,
        "select project_id, strftime(month_date, '%Y-%m'), completion_pct, spent_to_date_tmt,"
        " budget_tmt, is_reported, budget_execution_pct"
        " from marts.fct_construction_progress_monthly",
    )

    def number(value: object) -> float | None:
        return None if value is None else float(value)  # type: ignore[arg-type]

    actual = {
        (project, month): (number(completion), number(spent), float(budget), reported)
        for project, month, completion, spent, budget, reported, _ in rows
    }
    expected = _expected_progress(register)
    assert actual.keys() == expected.keys()
    assert actual == expected
    assert any(not reported for *_, reported in actual.values()), "unreported months are kept"
    assert any(figures[0] is None for figures in actual.values()), "started, not yet reported"
    for _project, _month, _, spent, budget, _, execution in rows:
        if spent is None:
            assert execution is None
            continue
        assert float(execution) == pytest.approx(round(100 * float(spent) / float(budget), 1))
