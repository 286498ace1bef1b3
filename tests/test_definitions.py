"""The Dagster code location loads and has the expected shape."""

import os
from pathlib import Path

import dagster as dg

from maglumat.catalogue import load_catalogue
from pipelines.assets.sources import GATE_CHECK
from pipelines.definitions import DAILY_JOB, defs


def _keys() -> set[str]:
    return {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}


def test_definitions_load_with_the_whole_flow() -> None:
    keys = _keys()
    for table in ("daily_reports", "state_orders", "farms"):
        assert f"landing/agriculture_campaign__{table}__landing" in keys
        assert f"raw/agriculture_campaign__{table}__raw" in keys
    assert {
        "staging/stg_agriculture__daily_reports",
        "intermediate/int_campaign_reports_deduplicated",
        "marts/fct_campaign_daily_progress",
        "marts/dim_regions",
        "marts/dim_dates",
        "indicators/ind_campaign_progress",
        "indicators/ind_lagging_districts",
        "reference/ref_districts",
        "snapshot/warehouse",
        "reports/daily_campaign",
    } <= keys


def test_dbt_sources_are_the_raw_assets() -> None:
    graph = defs.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_agriculture__daily_reports"]))
    assert dg.AssetKey(["raw", "agriculture_campaign__daily_reports__raw"]) in staging.parent_keys
    raw = graph.get(dg.AssetKey(["raw", "agriculture_campaign__daily_reports__raw"]))
    landing = dg.AssetKey(["landing", "agriculture_campaign__daily_reports__landing"])
    assert landing in raw.parent_keys


def test_the_gate_is_a_blocking_check_on_every_raw_table() -> None:
    graph = defs.resolve_asset_graph()
    gates = [
        spec
        for key in graph.asset_check_keys
        if key.name == GATE_CHECK
        for spec in [graph.get_check_spec(key)]
    ]
    tables = sum(len(system.tables) for system in load_catalogue())
    assert len(gates) == tables
    assert all(spec.blocking for spec in gates)


def test_daily_schedule_runs_the_daily_job() -> None:
    schedule = defs.resolve_schedule_def("maglumat_daily_schedule")
    assert schedule.job_name == DAILY_JOB
    assert schedule.execution_timezone == "Asia/Ashgabat"
    assert schedule.cron_schedule == "30 10 * * *"


def test_the_landing_and_raw_nodes_of_a_table_say_their_stage() -> None:
    """Dagster's graph labels a node with the last part of its key: the extraction and the gated
    load of a table are told apart by that label, their kinds and the start of their description."""
    graph = defs.resolve_asset_graph()
    labels = [key.path[-1] for key in graph.get_all_asset_keys()]
    assert len(labels) == len(set(labels))
    for system in load_catalogue():
        for table in system.tables:
            landing = graph.get(dg.AssetKey(["landing", f"{system.name}__{table.name}__landing"]))
            raw = graph.get(dg.AssetKey(["raw", f"{system.name}__{table.name}__raw"]))
            assert "extract" in landing.kinds
            assert "gate" not in landing.kinds
            assert "gate" in raw.kinds
            assert "extract" not in raw.kinds
            assert (landing.description or "").startswith("Extract and land: ")
            assert (raw.description or "").startswith("Gate and load: ")


ASSET_GRAPH_FILE = Path(__file__).parent / "asset_graph.txt"


def _asset_graph_text() -> str:
    """The asset graph in review-friendly lines: each asset with its group, kinds, what it
    depends on and its checks (blocking ones marked)."""
    graph = defs.resolve_asset_graph()
    checks: dict[dg.AssetKey, list[str]] = {}
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        checks.setdefault(check_key.asset_key, []).append(
            f"{check_key.name}{' (blocking)' if spec.blocking else ''}"
        )
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        if key.path[0] == "serving":  # there only where MAGLUMAT_SERVING_DSN is set
            continue
        node = graph.get(key)
        lines.append(f"{key.to_user_string()}  [{node.group_name}] {', '.join(sorted(node.kinds))}")
        lines += [f"  <- {parent.to_user_string()}" for parent in sorted(
            node.parent_keys, key=lambda k: k.to_user_string()
        )]  # fmt: skip
        lines += [f"  check {name}" for name in sorted(checks.get(key, []))]
    return "\n".join(lines) + "\n"


def test_the_asset_graph_is_the_reviewed_one() -> None:
    """An accidental change to the graph (a key, a group, a dependency, a check) shows in review:
    after a deliberate one, write the file again with
    ``MAGLUMAT_WRITE_ASSET_GRAPH=1 .venv/bin/pytest tests/test_definitions.py``."""
    current = _asset_graph_text()
    if os.environ.get("MAGLUMAT_WRITE_ASSET_GRAPH") == "1":
        ASSET_GRAPH_FILE.write_text(current, encoding="utf-8")
    reviewed = ASSET_GRAPH_FILE.read_text(encoding="utf-8")
    assert current == reviewed, (
        "the asset graph changed: see the difference, and if it is meant, write it again with"
        " MAGLUMAT_WRITE_ASSET_GRAPH=1"
    )
