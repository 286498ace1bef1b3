"""People's logins to the serving database, as an administrator manages them: one login per
person, added, listed and removed (through the functions and the `maglumat serving` commands),
and the shared logins of earlier versions disabled by the next publication."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pipelines.cli import main
from tests.serving_support import ServingDatabase, published_database, small_snapshot
from tests.serving_support import publish_quickly as _publish
from warehouse.serving import ServingError
from warehouse.serving.users import add_user, list_users, remove_user

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_snapshot(tmp_path_factory.mktemp("snapshot") / "warehouse.duckdb")


@pytest.fixture
def database(snapshot_file: Path) -> Iterator[ServingDatabase]:
    """A serving database with one publication in force."""
    with published_database(snapshot_file) as served:
        yield served


def test_shared_logins_of_earlier_versions_are_disabled_on_the_next_publication(
    database: ServingDatabase, snapshot_file: Path
) -> None:
    shared = f"{database.role_prefix}health_bi"
    with database.admin() as pg:
        pg.execute(f"create role {shared} login in role {database.role_prefix}health")
    publication, messages = _publish(database, snapshot_file, "second")
    assert publication.events == [
        f"shared login {shared} disabled: people now log in as themselves"
        " (maglumat serving add-user NAME --ministry health)"
    ]
    assert publication.events[0] in messages
    with database.admin() as pg:
        assert pg.execute(
            "select rolcanlogin from pg_roles where rolname = %s", [shared]
        ).fetchone() == (False,)
    assert shared not in {reader.name for reader in list_users(database.dsn, database.role_prefix)}
    # Disabled once: the publication after says nothing more.
    assert _publish(database, snapshot_file, "third")[0].events == []


def test_people_are_added_listed_and_removed(database: ServingDatabase) -> None:
    name = f"{database.people_prefix}aman"
    reader = add_user(database.dsn, database.role_prefix, name, "Health", "a long secret 1234")
    assert (reader.name, reader.ministry, reader.can_login) == (name, "health", True)
    session = database.as_role(name)
    listed = {r.name: r for r in list_users(database.dsn, database.role_prefix)}
    assert listed[name].sessions == 1
    assert remove_user(database.dsn, database.role_prefix, name) == 1
    with pytest.raises(psycopg.OperationalError):
        session.execute("select 1")
    session.close()
    assert name not in {r.name for r in list_users(database.dsn, database.role_prefix)}
    with pytest.raises(ServingError, match="is not a reader of the serving database"):
        remove_user(database.dsn, database.role_prefix, "postgres")


# --- the command line -------------------------------------------------------------------------


def _run(
    arguments: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(arguments)
    out, err = capsys.readouterr()
    return status, out, err


def test_the_serving_commands_as_an_administrator_uses_them(
    database: ServingDatabase,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAGLUMAT_SERVING_DSN", database.dsn)
    monkeypatch.setenv("MAGLUMAT_SERVING_ROLE_PREFIX", database.role_prefix)
    name = f"{database.people_prefix}maya"
    password = "never on a command line 7"
    status, out, err = _run(
        ["serving", "add-user", name, "--ministry", "health"], capsys, monkeypatch, password
    )
    assert (status, err) == (0, "")
    assert out.startswith(f"{name} may now log in to ")
    assert out.rstrip().endswith("reads what health reads (at most 10 connections)")
    assert password not in out
    with database.admin() as pg:
        (verifier,) = pg.execute(
            "select rolpassword from pg_authid where rolname = %s", [name]
        ).fetchone() or ("",)
    assert verifier.startswith("SCRAM-SHA-256$")

    status, out, _ = _run(["serving", "list-users"], capsys, monkeypatch)
    assert status == 0
    assert [line.split()[:2] for line in out.splitlines()] == [[name, "health"]]

    refusals = {
        ("add-user", name, "--ministry", "health"): f"user {name!r} already exists",
        ("add-user", "x" + name, "--ministry", "energie"): "--ministry 'energie': not a"
        " ministry of the serving database (known: government, health)",
        ("add-user", "Bad-Name", "--ministry", "health"): "user name 'Bad-Name': lowercase",
        ("remove-user", "nobody_here"): "'nobody_here' is not a reader",
    }
    for arguments, expected in refusals.items():
        status, out, err = _run(["serving", *arguments], capsys, monkeypatch, password)
        assert status == 1, arguments
        assert len(err.splitlines()) == 1, err
        assert err.startswith(f"maglumat serving {arguments[0]}: "), err
        assert expected in err, err
    status, _, err = _run(
        ["serving", "add-user", "y" + name, "--ministry", "health"], capsys, monkeypatch, "short"
    )
    assert status == 1
    assert "the password is too short: at least 12 characters" in err

    status, out, _ = _run(["serving", "remove-user", name], capsys, monkeypatch)
    assert status == 0
    assert out.startswith(f"{name} removed from ")
