"""Imports point one way: each layer knows only the layers below it.

    pipelines   Dagster, the command line: the top, it uses everything below
    warehouse   DuckDB, snapshots, the economists' client, serving, report rendering
    quality     the gate: suites, validation, the gate's reports
    maglumat    settings and paths, the clock, the languages, the contracts between stages

The simulator stands in for the ministries' systems: it may use the product's connectors, and
the product uses it only where the demo commands drive it (listed below, with the reason).
Every ``import`` counts, at the top of a module or inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from maglumat.settings import PROJECT_ROOT

LAYERS = ("maglumat", "quality", "warehouse", "pipelines")
# (importing module, imported package): the commands `demo`, `simulate` and `run --simulated`
# bring the simulated systems to a time and serve their APIs during a run.
DEMO_COMMANDS = {("pipelines.commands.running", "simulator")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_packages(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def _violations() -> list[str]:
    allowed_below = {layer: set(LAYERS[: index + 1]) for index, layer in enumerate(LAYERS)}
    ours = {*LAYERS, "simulator"}
    problems = []
    for layer in (*LAYERS, "simulator"):
        for path in sorted((PROJECT_ROOT / layer).rglob("*.py")):
            module = _module_name(path)
            allowed = allowed_below.get(layer, {*LAYERS, "simulator"})
            for package, line in sorted(_imported_packages(path)):
                if package not in ours or package in allowed:
                    continue
                if (module, package) in DEMO_COMMANDS:
                    continue
                problems.append(
                    f"{path.relative_to(PROJECT_ROOT)}:{line}: {layer} imports {package}"
                )
    return problems


def test_each_layer_imports_only_the_layers_below_it() -> None:
    assert _violations() == []


def test_the_contract_sees_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module of the client reaching up into the orchestration is found, with its line."""
    module = tmp_path / "warehouse" / "upward.py"
    module.parent.mkdir()
    module.write_text("import duckdb\n\n\ndef f():\n    from pipelines.cli import main\n")
    for layer in (*LAYERS, "simulator"):
        if layer != "warehouse":
            (tmp_path / layer).mkdir()
    monkeypatch.setattr(f"{__name__}.PROJECT_ROOT", tmp_path)
    assert _violations() == ["warehouse/upward.py:5: warehouse imports pipelines"]


def test_the_economists_client_needs_no_orchestration() -> None:
    """``from warehouse.client import Warehouse`` loads neither Dagster nor dbt nor pipelines."""
    import subprocess
    import sys

    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, warehouse.client;"
         " print(sorted({m.split('.')[0] for m in sys.modules}"
         " & {'dagster', 'dbt', 'pipelines'}))"],
        capture_output=True, text=True, check=True, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert loaded.stdout.strip() == "[]"


def test_no_test_module_imports_another() -> None:
    """Shared builders live in support modules (tests/support.py, tests/sectors/inbox_support.py,
    conftest fixtures), so a test module can be read, run and deleted on its own."""
    importing = []
    for path in sorted((PROJECT_ROOT / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.startswith("tests.") and module.split(".")[-1].startswith("test_"):
                importing.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert importing == []
