"""Every user error of ``maglumat`` is one line naming the argument, what was wrong and what is
allowed, with a non-zero exit; no traceback reaches the user unless ``--debug`` asks for it."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from maglumat.settings import PROJECT_ROOT, MaglumatPaths
from pipelines import cli
from pipelines.cli import main
from pipelines.cli_arguments import UsageError, one_of
from warehouse.client import Warehouse


@pytest.fixture
def spine_home(spine_run: MaglumatPaths, monkeypatch: pytest.MonkeyPatch) -> MaglumatPaths:
    monkeypatch.setenv("MAGLUMAT_HOME", str(spine_run.home))
    return spine_run


def _one_line(capsys: pytest.CaptureFixture[str], argv: list[str], status: int = 2) -> str:
    """Run ``maglumat argv``; the single line it printed on stderr (argparse's errors too)."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    assert code == status, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


@pytest.mark.parametrize("query", ["", "-- a comment", ";", "  ;  ; "])
def test_a_query_without_a_statement_says_so(
    spine_home: MaglumatPaths, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    line = _one_line(capsys, ["sql", query])
    assert line.startswith("maglumat sql: QUERY: no SQL statement in it")


def test_every_statement_of_a_query_is_printed(
    spine_home: MaglumatPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "select 1 as first_answer; select 2 as second_answer"]) == 0
    out = capsys.readouterr().out
    assert "first_answer" in out
    assert "second_answer" in out
    line = _one_line(capsys, ["sql", "select 1; select 2", "--output", "/tmp/x.csv"])
    assert line == "maglumat sql: --output: writes one statement's result, and the query has 2"


def test_rows_are_cut_at_max_rows_and_shown_in_full_into_a_pipe(
    spine_home: MaglumatPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    query = "select range as n, repeat('x', 300) || 'END' as long_text from range(120)"
    assert main(["sql", query]) == 0
    default = capsys.readouterr()
    assert "[sql] 50 of 120 rows shown: --max-rows N or --all" in default.err
    assert "END" in default.out  # not a terminal: text is not cut at 40 characters
    assert main(["sql", query, "--all"]) == 0
    everything = capsys.readouterr()
    assert everything.out.count("END") == 120
    assert everything.err == ""
    assert main(["sql", query, "--max-rows", "3"]) == 0
    assert capsys.readouterr().out.count("END") == 3
    line = _one_line(capsys, ["sql", query, "--max-rows", "0"])
    assert line.endswith("argument --max-rows: 0: at least 1 (see `maglumat sql --help`)")


def test_csv_for_excel_has_a_bom_semicolons_and_decimal_commas(
    spine_home: MaglumatPaths, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "regions.csv"
    query = "select 'Daşoguz' as name, 1234.5 as amount"
    assert main(["sql", query, "--output", str(target), "--excel-csv"]) == 0
    assert target.read_bytes() == "\ufeffname;amount\nDaşoguz;1234,5\n".encode()
    plain = tmp_path / "plain.csv"
    assert main(["sql", query, "--output", str(plain)]) == 0
    assert plain.read_bytes() == "name,amount\nDaşoguz,1234.5\n".encode()
    capsys.readouterr()
    line = _one_line(capsys, ["sql", query, "--excel-csv"])
    assert line == "maglumat sql: --excel-csv: goes with --output FILE.csv"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["report", "daily_campaign", "--period", "30.09.2023"],
            "maglumat report: argument --period: '30.09.2023' is not a date: write YYYY-MM-DD,"
            " e.g. 2023-09-30",
        ),
        (
            ["report", "daily_campaign", "--period", "2023-02-30"],
            "maglumat report: argument --period: 2023-02-30: February 2023 has 28 days",
        ),
        (
            ["report", "daily_campaign", "--period", "2030-01-01"],
            "maglumat report: --period 2030-01-01: no daily_campaign report covers it; its"
            " periods run from 2023-01-01 to the latest one complete",
        ),
        (
            ["report", "monthly_government", "--period", "2019-01-15"],
            "maglumat report: --period 2019-01-15: no monthly_government report covers it;"
            " its periods run from 2023-01 to",
        ),
        (
            ["report", "weekly_ministry", "--period", "2023-09-25", "--ministry", "Enrgy"],
            "maglumat report: --ministry 'Enrgy': no such ministry; one of ",
        ),
        (
            ["report", "daily_campaign", "--period", "2023-09-25", "--ministry", "energy"],
            "maglumat report: --ministry: only the weekly_ministry report is per ministry",
        ),
        (
            ["simulate", "--simulated-time", "notadate"],
            "maglumat simulate: argument --simulated-time: 'notadate' is not a time: write ISO"
            " 8601, e.g. 2023-10-01T06:00Z or 2023-10-01",
        ),
        (  # the option's earlier name still works, and is named as it was written
            ["simulate", "--as-of", "notadate"],
            "maglumat simulate: argument --as-of: 'notadate' is not a time: write ISO 8601,"
            " e.g. 2023-10-01T06:00Z or 2023-10-01",
        ),
        (
            ["simulate", "--as-of", "2023-13-01T06:00"],
            "maglumat simulate: argument --as-of: 2023-13-01: there is no month 13",
        ),
        (
            ["sql", "select 1", "--as-of", "yesterday"],
            "maglumat sql: argument --as-of: 'yesterday' is neither a date (2023-09-12) nor a"
            " time (2023-09-12T18:00)",
        ),
        (
            ["readmit", "nosuch"],
            "maglumat readmit: no batch 'nosuch' in the landing zone",
        ),
        (
            ["quarantine", "--system", "nosuch"],
            "maglumat quarantine: --system 'nosuch': no such sector system; one of"
            " agriculture_campaign, chemical_monthly_form,",
        ),
        (
            ["sql", "select 1", "--as-of", "2000-01-01"],
            "maglumat sql: no snapshot was in force at 2000-01-02T00:00:00+05:00: the first"
            " was published at",
        ),
    ],
)
def test_each_wrong_argument_is_one_line_naming_it(
    spine_home: MaglumatPaths, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert _one_line(capsys, argv).startswith(message)


def test_a_ministry_is_accepted_in_any_case() -> None:
    assert one_of("Energy", ["agriculture", "energy"], "ministry", "--ministry") == "energy"
    with pytest.raises(UsageError, match="one of agriculture, energy"):
        one_of("Energi", ["agriculture", "energy"], "ministry", "--ministry")


@pytest.mark.parametrize(
    "argv",
    [["sql", "select 1"], ["search", "bugday"], ["quarantine"], ["readmit", "some-batch"]],
)
def test_a_mistyped_home_is_an_error_and_is_never_created(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    mistyped = tmp_path / "varr"
    monkeypatch.setenv("MAGLUMAT_HOME", str(mistyped))
    line = _one_line(capsys, argv)
    assert f"MAGLUMAT_HOME {mistyped} holds no warehouse" in line
    assert not mistyped.exists()


def test_an_unknown_level_or_period_type_lists_the_allowed(spine_home: MaglumatPaths) -> None:
    with Warehouse(spine_home.home) as warehouse:
        levels = r"level='oblast': .* has values for level country, district, province"
        with pytest.raises(ValueError, match=levels):
            warehouse.indicator("agr_campaign_progress_pct", level="oblast")
        periods = r"period_type='monthly': .* for period_type campaign, day, month, week"
        with pytest.raises(ValueError, match=periods):
            warehouse.indicator("agr_campaign_progress_pct", period_type="monthly")
        assert not warehouse.indicator("agr_campaign_progress_pct", level="province").is_empty()


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(
    spine_home: MaglumatPaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(system: str | None) -> int:
        raise RuntimeError("the disk went away\nsecond line")

    monkeypatch.setattr(cli, "quarantine", broken)
    line = _one_line(capsys, ["quarantine"], status=1)
    assert line == (
        "maglumat quarantine: unexpected error (RuntimeError: the disk went away); run it"
        " again with `maglumat --debug` for the traceback"
    )
    with pytest.raises(RuntimeError, match="the disk went away"):
        main(["--debug", "quarantine"])


def test_publish_serving_names_the_servers_reason(
    spine_home: MaglumatPaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    postgres_dsn: str,
) -> None:
    monkeypatch.setenv(
        "MAGLUMAT_SERVING_DSN", "postgresql://postgres@127.0.0.1:5432/maglumat_no_such_database"
    )
    line = _one_line(capsys, ["publish-serving"])
    assert line.startswith("maglumat publish-serving: cannot reach the serving database")
    assert 'database "maglumat_no_such_database" does not exist' in line

    read_only = psycopg.conninfo.make_conninfo(
        postgres_dsn, options="-c default_transaction_read_only=on"
    )
    monkeypatch.setenv("MAGLUMAT_SERVING_DSN", read_only)
    line = _one_line(capsys, ["publish-serving"], status=1)
    assert "read-only" in line

    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute("drop role if exists maglumat_test_no_createrole")
        admin.execute("create role maglumat_test_no_createrole login")
    try:
        monkeypatch.setenv(
            "MAGLUMAT_SERVING_DSN",
            psycopg.conninfo.make_conninfo(postgres_dsn, user="maglumat_test_no_createrole"),
        )
        line = _one_line(capsys, ["publish-serving"], status=1)
        assert line.startswith("maglumat publish-serving: ")
        assert "permission denied" in line
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as admin:
            admin.execute("drop role if exists maglumat_test_no_createrole")


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    parser = cli._parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return [("maglumat", parser), *commands.choices.items()]


@pytest.mark.parametrize(("name", "parser"), _parsers(), ids=[name for name, _ in _parsers()])
def test_every_option_has_help_and_every_command_an_example(
    name: str, parser: argparse.ArgumentParser
) -> None:
    for action in parser._actions:
        assert action.help, f"{name}: {action.dest} has no help text"
    assert "Example" in (parser.epilog or ""), f"{name} has no example"


def test_the_help_text_runs_without_a_home(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sql", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"MAGLUMAT_HOME": str(tmp_path / "nowhere"), "PATH": ""},
    )
    assert completed.returncode == 0, completed.stderr
    assert "--excel-csv" in completed.stdout
    assert not (tmp_path / "nowhere").exists()


def test_a_project_that_does_not_parse_is_one_line_with_dbts_words(
    tmp_path: Path,
    maglumat_home: MaglumatPaths,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`maglumat prepare` (and `maglumat run`, which prepares after an upgrade) on a project
    with a model that refers to no model: real dbt on a copy of the project."""
    from dagster_dbt import DbtProject

    from pipelines.assets import transform

    project = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs")
    )
    (project / "models" / "marts" / "fct_broken.sql").write_text(
        "select * from {{ ref('fct_no_such_model') }}\n"
    )
    monkeypatch.setattr(
        transform, "DBT_PROJECT", DbtProject(project_dir=project, profiles_dir=project)
    )
    monkeypatch.chdir(tmp_path)

    line = _one_line(capsys, ["prepare"])

    assert line == (
        "maglumat prepare: the dbt project in dbt_project does not parse: Compilation Error:"
        " Model 'model.maglumat.fct_broken' (models/marts/fct_broken.sql) depends on a node"
        " named 'fct_no_such_model' which was not found (dbt's log: dbt_project/target/dbt.log)"
    )
