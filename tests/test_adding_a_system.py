"""docs/architecture.md shows adding a system as a diff; this applies exactly that diff to a copy
of the project and runs the new system from its real database to its staging model.

If the page and the code drift apart (a renamed key, a new place a system must be named in),
this fails, so the page stays the way to add a system.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import psycopg
import pytest

from maglumat.catalogue import load_catalogue
from maglumat.settings import CATALOGUE_DIR, DBT_PROJECT_DIR, PROJECT_ROOT, MaglumatPaths
from pipelines.assets.sources import build_source_assets
from pipelines.assets.transform import dbt_executable
from pipelines.catalogue import check_catalogue
from pipelines.indicators.generate import generated_files
from pipelines.ingest import extract_to_landing, gate_and_load

SYSTEM = "water_deliveries"
DSN_VARIABLE = "MAGLUMAT_WATER_DELIVERIES_DSN"


def _documented_diff() -> str:
    page = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = page.split("### Adding a system, by example", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```diff\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 3, "the page shows the spec, the staging model and the delivery line"
    return "".join(blocks)


def _project_with_the_new_system(root: Path) -> tuple[Path, Path]:
    """A copy of the catalogue and the dbt project with the page's diff applied."""
    for sources in CATALOGUE_DIR.glob("*/sources.yml"):
        (root / "pipelines" / sources.parent.name).mkdir(parents=True)
        shutil.copy(sources, root / "pipelines" / sources.parent.name)
    shutil.copytree(
        DBT_PROJECT_DIR,
        root / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"),
    )
    (root / "example.diff").write_text(_documented_diff(), encoding="utf-8")
    applied = subprocess.run(
        ["git", "apply", "--verbose", "example.diff"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert applied.returncode == 0, applied.stderr
    return root / "pipelines", root / "dbt_project"


def test_the_documented_diff_adds_a_working_system(
    tmp_path: Path, maglumat_home: MaglumatPaths, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue_root, project_dir = _project_with_the_new_system(tmp_path / "project")

    # The catalogue accepts it, with its contract, when the definitions load.
    systems = check_catalogue(load_catalogue(catalogue_root))
    (water,) = [system for system in systems if system.name == SYSTEM]
    deliveries = water.table("canal_deliveries")
    assert deliveries.columns["delivery_date"] == "date"

    # generate writes its dbt source (with the column types) and its reference rows.
    for path, text in generated_files(project_dir, catalogue_root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    source_file = project_dir / "models/staging/water/generated/_water_deliveries__sources.yml"
    assert "data_type: date" in source_file.read_text(encoding="utf-8")
    seeds = project_dir / "seeds/reference/generated/ref_source_systems.csv"
    assert SYSTEM in seeds.read_text(encoding="utf-8")

    # The asset graph gains its two stages and their checks, built from the catalogue alone.
    assets = build_source_assets([water])
    assert {
        (key.to_user_string(), tuple(sorted(check.name for check in asset.check_specs)))
        for asset in assets
        for key in asset.keys
    } == {
        (
            "landing/water_deliveries__canal_deliveries__landing",
            ("delivered_on_time", "source_reachable"),
        ),
        ("raw/water_deliveries__canal_deliveries__raw", ("quality_gate",)),
    }

    # The committee's real table: nine days of one canal to one district, and a row without
    # its district (a tenth of the batch: under the default share that holds a whole batch).
    with psycopg.connect(postgres_dsn, autocommit=True) as source:
        source.execute(
            "create table canal_deliveries (delivery_id integer primary key, canal_code text,"
            " district_code text, delivery_date date, water_mcm numeric(12, 3),"
            " updated_at timestamptz)"
        )
        source.cursor().executemany(
            "insert into canal_deliveries values (%s, 'GK', %s, %s, %s, %s)",
            [
                (day, "TM-A-01" if day < 10 else None, f"2026-05-{day:02d}", 1.25 * day,
                 f"2026-05-{day + 1:02d} 04:00+00")
                for day in range(1, 11)
            ],
        )  # fmt: skip
    monkeypatch.setenv(DSN_VARIABLE, postgres_dsn)

    extracted = extract_to_landing(maglumat_home, water, deliveries)
    assert [manifest.row_count for manifest in extracted.manifests] == [10], extracted.reason
    gated = gate_and_load(maglumat_home, water, deliveries)
    assert [(load.status, load.loaded_rows, load.quarantined_rows) for load in gated.loads] == [
        ("loaded_with_quarantine", 9, 1)
    ]
    connection = duckdb.connect(str(maglumat_home.warehouse), read_only=True)
    try:
        quarantined = connection.execute(
            "select row_number, rule, field from audit.quarantine where system = ?", [SYSTEM]
        ).fetchall()
    finally:
        connection.close()
    assert quarantined == [(10, "expect_column_values_to_not_be_null", "district_code")]

    # dbt builds its staging model from the loaded rows.
    built = subprocess.run(
        [
            dbt_executable(),
            "build",
            "--select",
            "stg_water__canal_deliveries",
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            str(tmp_path / "dbt-target"),
            "--log-path",
            str(tmp_path / "dbt-logs"),
        ],
        env={**os.environ, "MAGLUMAT_HOME": str(maglumat_home.home)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:]
    connection = duckdb.connect(str(maglumat_home.warehouse), read_only=True)
    try:
        rows = connection.execute(
            "select delivery_date, water_mcm from staging.stg_water__canal_deliveries"
            " order by delivery_date"
        ).fetchall()
    finally:
        connection.close()
    assert [(str(day), float(mcm)) for day, mcm in rows] == [
        (f"2026-05-{day:02d}", 1.25 * day) for day in range(1, 10)
    ]
