"""Compile the indicator catalogue (dbt_project/indicators/*.yml) into dbt files.

dbt's Jinja cannot read a file of the project at compile time (there is no ``load_file`` in
dbt-core 1.11), and project ``vars`` would put the catalogue into the shared
``dbt_project.yml``. So this script validates the YAML and writes it, as JSON, into the macro
``indicator_catalogue()``, which the indicator macros read with ``fromjson``. It also writes the
per-sector models and their documentation, whose columns follow from the catalogue. The
generated files are checked in; ``--check`` (run by tests) fails when they are out of date, so
adding an indicator is adding a YAML entry and running ``python -m pipelines.indicators.generate``.

The reporting discipline indicators (``data_quality.yml``) also need each system's delivery
schedule and where its deliveries show: the schedule is written from the source catalogue
(``pipelines/<sector>/sources.yml``) into the seed ``ref_delivery_schedules.csv``, and the
``deliveries`` entries of the indicator files into the macro ``source_delivery_catalogue()``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from maglumat.catalogue import load_catalogue as load_source_catalogue
from maglumat.settings import CATALOGUE_DIR
from pipelines.indicators.catalogue import (
    PROJECT_DIR,
    load_catalogue,
    load_deliveries,
    sectors,
    wide_indicators,
)
from pipelines.indicators.render import (
    render_catalogue_macro,
    render_days_model,
    render_days_yml,
    render_dbt_sources,
    render_delivery_macro,
    render_enterprise_models_macro,
    render_generated_readme,
    render_schedules_csv,
    render_source_systems_csv,
    render_values_model,
    render_values_yml,
    render_wide_model,
    render_wide_yml,
    sources_file,
)


def generated_files(
    project_dir: Path = PROJECT_DIR, catalogue_root: Path = CATALOGUE_DIR
) -> dict[Path, str]:
    """Every generated file and its expected content."""
    indicators = load_catalogue(project_dir)
    systems = load_source_catalogue(catalogue_root)
    models = project_dir / "models" / "indicators" / "generated"
    values = project_dir / "models" / "intermediate" / "indicators" / "generated"
    files = {
        project_dir / "macros" / "generated" / "indicator_catalogue.sql": render_catalogue_macro(
            indicators
        )
    }
    files[project_dir / "macros" / "generated" / "source_delivery_catalogue.sql"] = (
        render_delivery_macro(load_deliveries(project_dir, systems))
    )
    files[project_dir / "seeds" / "reference" / "generated" / "ref_delivery_schedules.csv"] = (
        render_schedules_csv(systems)
    )
    files[project_dir / "seeds" / "reference" / "generated" / "ref_source_systems.csv"] = (
        render_source_systems_csv(systems)
    )
    for folder, source in (
        ("models/indicators/generated", "the indicator catalogue (dbt_project/indicators/*.yml)"),
        (
            "models/intermediate/indicators/generated",
            "the indicator catalogue (dbt_project/indicators/*.yml)",
        ),
        (
            "macros/generated",
            "the indicator catalogue, the source catalogue and the staging models",
        ),
        ("seeds/reference/generated", "the source catalogue (pipelines/<sector>/sources.yml)"),
    ):
        files[project_dir / folder / "README.md"] = render_generated_readme(source)
    for system in systems:
        files[sources_file(project_dir, system)] = render_dbt_sources(system)
    files[project_dir / "macros" / "generated" / "sector_enterprise_models.sql"] = (
        render_enterprise_models_macro(project_dir)
    )
    for sector in sectors(indicators):
        files[values / f"int_indicator_values_{sector}.sql"] = render_values_model(sector)
        files[values / f"int_indicator_values_{sector}.yml"] = render_values_yml(sector, indicators)
        files[values / f"int_indicator_days_{sector}.sql"] = render_days_model(sector)
        files[values / f"int_indicator_days_{sector}.yml"] = render_days_yml(sector)
        if wide_indicators(indicators, sector):
            files[models / f"ind_{sector}_monthly.sql"] = render_wide_model(sector, indicators)
            files[models / f"ind_{sector}_monthly.yml"] = render_wide_yml(sector, indicators)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if files are out of date")
    args = parser.parse_args(argv)
    stale = []
    expected = generated_files()
    # A file in a generated/ folder that nothing writes any more (a system or sector removed)
    # would still be parsed by dbt: it is out of date too, and removed.
    folders = {path.parent for path in expected if path.parent.name == "generated"}
    for leftover in sorted(
        path
        for folder in folders
        if folder.is_dir()
        for path in folder.iterdir()
        if path not in expected
    ):
        stale.append(leftover)
        if not args.check:
            leftover.unlink()
    for path, text in expected.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for path in stale:
        done = "removed " if not path.exists() else "wrote "
        print(("out of date: " if args.check else done) + str(path.relative_to(PROJECT_DIR)))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
