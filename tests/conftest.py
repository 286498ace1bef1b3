"""Shared fixtures: a fresh deployment directory per test, and the real database servers."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths

POSTGRES_DSN = os.environ.get(
    "MAGLUMAT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
MARIADB_DSN = os.environ.get("MAGLUMAT_TEST_MARIADB_DSN", "mysql://root@127.0.0.1:3306/test")


def pytest_configure(config: pytest.Config) -> None:
    """Parse the dbt project once: the Dagster definitions are built from its manifest. Under
    pytest-xdist only the controller parses, before it starts the workers (they collect test
    modules that build the definitions, and two parses would write the same manifest).

    ``MAGLUMAT_CLOCK=2026-12-31T23:30:00Z make test`` runs the whole suite at that instant: the
    controller reads the clock first, so its workers and every process they start share it."""
    if hasattr(config, "workerinput"):
        return
    if os.environ.get("MAGLUMAT_CLOCK"):
        from maglumat import clock

        clock.now()  # anchors the clock for the workers (MAGLUMAT_CLOCK_ANCHOR)
    from dagster_dbt import DbtCliResource

    from pipelines.assets.transform import DBT_PROJECT, dbt_executable

    os.environ.setdefault("MAGLUMAT_HOME", str(Path(config.rootpath) / "var"))
    DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable()).cli(
        ["parse", "--quiet"], target_path=DBT_PROJECT.target_path
    ).wait()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``), tests that share an expensive fixture run on
    one worker, so it is built once: the session-wide pipeline runs (``all_sectors``,
    ``spine_run``) group their tests across files; other tests stay with their file, whose
    module fixtures load sector systems."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "all_sectors" in fixtures:
            group = "all_sectors"
        elif "spine_run" in fixtures or "spine_run_copy" in fixtures:
            group = "spine_run"
        else:
            group = item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))


def _server_unreachable(reason: str) -> None:
    """Skip on a user's machine; under CI the server is part of the contract, so fail."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def maglumat_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MaglumatPaths:
    """An empty deployment (landing zone, warehouse, snapshots) in a temporary directory."""
    home = tmp_path / "maglumat"
    monkeypatch.setenv("MAGLUMAT_HOME", str(home))
    paths = MaglumatPaths(home=home.resolve())
    paths.ensure()
    return paths


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    """A DSN whose search_path is a fresh schema on the real PostgreSQL, dropped afterwards."""
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        _server_unreachable(f"PostgreSQL is unreachable at {POSTGRES_DSN}: {error}")
    schema = f"maglumat_test_{secrets.token_hex(4)}"
    admin.execute(f'create schema "{schema}"')
    separator = "&" if "?" in POSTGRES_DSN else "?"
    try:
        yield f"{POSTGRES_DSN}{separator}options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'drop schema "{schema}" cascade')
        admin.close()


@pytest.fixture
def mariadb_dsn() -> Iterator[str]:
    """A DSN naming a fresh database on the real MariaDB, dropped afterwards."""
    from urllib.parse import urlsplit

    import pymysql

    parts = urlsplit(MARIADB_DSN)
    try:
        admin = pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
            connect_timeout=5,
            autocommit=True,
        )
    except pymysql.err.OperationalError as error:
        _server_unreachable(f"MariaDB is unreachable at {MARIADB_DSN}: {error}")
    database = f"maglumat_test_{secrets.token_hex(4)}"
    with admin.cursor() as cursor:
        cursor.execute(f"create database `{database}` character set utf8mb4")
    try:
        yield parts._replace(path=f"/{database}").geturl()
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"drop database `{database}`")
        admin.close()


@pytest.fixture(scope="session")
def all_sectors(tmp_path_factory: pytest.TempPathFactory) -> MaglumatPaths:
    """One real run of the daily job over all ten simulated sector systems (as of the demo's
    day), shared by the tests that read the whole warehouse."""
    from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
    from simulator import serving_all, simulate_all
    from tests.support import failed_checks, run_daily_job

    paths = MaglumatPaths(home=tmp_path_factory.mktemp("all_sectors") / "maglumat")
    paths.ensure()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        simulate_all(paths, DEFAULT_AS_OF, DEFAULT_SEED)
        with serving_all(paths, DEFAULT_AS_OF, DEFAULT_SEED):
            result = run_daily_job(paths)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    assert failed_checks(result, warnings=True) == []
    return paths


@pytest.fixture(scope="session")
def spine_run(tmp_path_factory: pytest.TempPathFactory) -> MaglumatPaths:
    """The campaign database as of the demo's day, extracted, gated, built and published once
    (the other sectors' systems are left out of the run). Tests that change it use a copy."""
    from simulator import agriculture
    from tests.support import SPINE, failed_checks, run_daily_job

    paths = MaglumatPaths(home=tmp_path_factory.mktemp("spine") / "maglumat")
    paths.ensure()
    agriculture.write(
        f"sqlite:///{paths.systems}/agriculture_campaign.sqlite",
        agriculture.generate(),
        DEFAULT_AS_OF,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        result = run_daily_job(paths, SPINE)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    assert failed_checks(result) == []
    return paths


@pytest.fixture
def spine_run_copy(
    spine_run: MaglumatPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> MaglumatPaths:
    """A private copy of ``spine_run`` (landing zone, warehouse, snapshots, systems)."""
    import shutil

    home = tmp_path / "maglumat"
    shutil.copytree(spine_run.home, home, symlinks=True)
    monkeypatch.setenv("MAGLUMAT_HOME", str(home))
    return MaglumatPaths(home=home)
