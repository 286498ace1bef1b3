"""What the daily dbt build has to rebuild: only what is downstream of changed inputs.

Every dbt model is a pure function of its sources (the ``raw`` and ``audit`` tables) and of the
project itself (models, seeds, macros, tests, configuration): no model reads the clock. So a
model whose sources are unchanged since the last successful build would be rebuilt to the same
rows, and its data tests would give the same verdicts. The build therefore selects the
descendants of the sources whose content changed (``source:<name>.<table>+``) and rebuilds
everything when the project changed, when there is no earlier successful build, or when asked.

The state lives in the warehouse itself (``audit.dbt_builds``, one row per build, written as
``running`` before dbt starts and marked ``succeeded`` after), so a copied or restored warehouse
file carries its own history. Only a succeeded build is a base to build on: after a failed,
interrupted or hand-picked build (which may have rewritten some tables), the next one is full.
"""

from __future__ import annotations

import graphlib
import hashlib
import importlib.metadata
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from maglumat import clock

BUILDS_TABLE_DDL = """
create schema if not exists audit;
create table if not exists audit.dbt_builds (
    build_number integer not null,
    run_id varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null,  -- running, succeeded, or subset (a hand-picked selection)
    project_fingerprint varchar not null,
    source_fingerprints varchar not null,
    selection varchar not null,
    reason varchar not null
);
"""

# Parts of a manifest entry that change what a build produces; timestamps and paths do not.
# (Of `depends_on`, the nodes: a build adds the macros it happened to call to the macro list.)
_NODE_FIELDS = (
    "checksum",
    "config",
    "raw_code",
    "columns",
    "test_metadata",
    "description",
    "contract",
    "constraints",
)
# Beside the manifest: the project's vars (not in the manifest) and the engine's versions.
_PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
_ENGINE_PACKAGES = ("duckdb", "dbt-duckdb", "dbt-core")
# Folders whose files the parse reads; a file newer than the parse means it is out of date.
_PARSED_FOLDERS = ("models", "macros", "seeds", "tests", "snapshots", "analyses", "indicators")


@dataclass(frozen=True)
class DbtBuildPlan:
    selection: list[str] | None  # None: every node; []: nothing to build
    reason: str
    project_fingerprint: str
    source_fingerprints: dict[str, str]
    base_build: int | None = None  # the succeeded build a partial plan builds on

    @property
    def is_full(self) -> bool:
        return self.selection is None

    @property
    def is_empty(self) -> bool:
        return self.selection == []

    def describe(self) -> str:
        if self.selection is None:
            return "every model and test"
        return " ".join(self.selection) or "nothing"


def project_settings(project_dir: Path) -> bytes:
    """What shapes a build beside the parsed nodes: the project and profile files (vars, model
    configuration, DuckDB settings) and the versions of the engine."""
    parts = [(project_dir / name).read_bytes() for name in _PROJECT_FILES]
    parts += [
        f"{package}=={importlib.metadata.version(package)}".encode() for package in _ENGINE_PACKAGES
    ]
    return b"\n".join(parts)


def parse_is_current(manifest_file: Path, project_dir: Path) -> bool:
    """Whether the parsed project is at least as new as every file it was parsed from."""
    parsed_at = manifest_file.stat().st_mtime
    files = [project_dir / name for name in _PROJECT_FILES]
    for folder in _PARSED_FOLDERS:
        if (project_dir / folder).is_dir():
            files += [path for path in (project_dir / folder).rglob("*") if path.is_file()]
    return all(path.stat().st_mtime <= parsed_at for path in files if path.exists())


def project_fingerprint(manifest: Mapping[str, Any], settings: bytes = b"") -> str:
    """A digest of everything in the dbt project that shapes a build's output."""
    digest = hashlib.sha256(settings)
    for section in ("nodes", "sources", "macros", "unit_tests"):
        entries = manifest.get(section) or {}
        for unique_id in sorted(entries):
            entry = entries[unique_id]
            if section == "macros":
                material: Any = entry.get("macro_sql")
            else:
                material = {name: entry.get(name) for name in _NODE_FIELDS}
                material["depends_on"] = (entry.get("depends_on") or {}).get("nodes")
            digest.update(unique_id.encode())
            digest.update(json.dumps(material, sort_keys=True, default=str).encode())
    digest.update(json.dumps(manifest.get("metadata", {}).get("dbt_version")).encode())
    return digest.hexdigest()


def dbt_sources(manifest: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Each source's dbt selector name (``<source>.<table>``) and its relation (schema, table)."""
    found: dict[str, tuple[str, str]] = {}
    for entry in (manifest.get("sources") or {}).values():
        selector = f"{entry['source_name']}.{entry['name']}"
        found[selector] = (entry["schema"], entry.get("identifier") or entry["name"])
    return found


def source_fingerprints(
    connection: duckdb.DuckDBPyConnection, sources: Mapping[str, tuple[str, str]]
) -> dict[str, str]:
    """Row count and an order-independent hash of every row, per source table."""
    present = {
        (schema, table)
        for schema, table in connection.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    fingerprints: dict[str, str] = {}
    for selector, (schema, table) in sorted(sources.items()):
        if (schema, table) not in present:
            fingerprints[selector] = "absent"
            continue
        relation = f'"{schema}"."{table}"'
        count, total = connection.execute(
            f"select count(*), coalesce(sum(hash(*columns(*))), 0) from {relation}"  # noqa: S608 - names from the manifest
        ).fetchone()  # type: ignore[misc]
        fingerprints[selector] = f"{count}:{total}"
    return fingerprints


def last_build(
    connection: duckdb.DuckDBPyConnection,
) -> tuple[int, str, str, dict[str, str]] | None:
    """The number, status, project and source fingerprints of the latest build, if any."""
    connection.execute(BUILDS_TABLE_DDL)
    row = connection.execute(
        "select build_number, status, project_fingerprint, source_fingerprints"
        " from audit.dbt_builds order by build_number desc limit 1"
    ).fetchone()
    if row is None:
        return None
    return int(row[0]), row[1], row[2], json.loads(row[3])


def plan_build(
    connection: duckdb.DuckDBPyConnection,
    manifest: Mapping[str, Any],
    *,
    settings: bytes = b"",
    full_build: bool = False,
    parse_current: bool = True,
) -> DbtBuildPlan:
    """Decide what to build from the warehouse's state and the project."""
    fingerprint = project_fingerprint(manifest, settings)
    sources = source_fingerprints(connection, dbt_sources(manifest))
    previous = None if full_build else last_build(connection)
    if full_build:
        return DbtBuildPlan(None, "a full build was asked for", fingerprint, sources)
    if not parse_current:
        reason = "the parsed project is older than its files (run `maglumat prepare`)"
        return DbtBuildPlan(None, reason, fingerprint, sources)
    if previous is None:
        return DbtBuildPlan(None, "no earlier build", fingerprint, sources)
    previous_number, previous_status, previous_project, previous_sources = previous
    if previous_status != "succeeded":
        reason = f"the last build did not succeed ({previous_status}): tables may be half-built"
        return DbtBuildPlan(None, reason, fingerprint, sources)
    if previous_project != fingerprint:
        return DbtBuildPlan(
            None, "the dbt project changed since the last build", fingerprint, sources
        )
    changed = sorted(
        selector for selector, value in sources.items() if previous_sources.get(selector) != value
    )
    if not changed:
        return DbtBuildPlan(
            [],
            "no source changed since the last successful build",
            fingerprint,
            sources,
            previous_number,
        )
    return DbtBuildPlan(
        [f"source:{selector}+" for selector in changed],
        f"{len(changed)} of {len(sources)} sources changed: {', '.join(changed)}",
        fingerprint,
        sources,
        previous_number,
    )


def _rebuilt(manifest: Mapping[str, Any], plan: DbtBuildPlan) -> set[str]:
    """Every node downstream of a changed source: what ``source:<changed>+`` selects."""
    sources = {
        f"{entry['source_name']}.{entry['name']}": unique_id
        for unique_id, entry in (manifest.get("sources") or {}).items()
    }
    children = manifest.get("child_map") or {}
    pending = [
        sources[selector.removeprefix("source:").removesuffix("+")]
        for selector in plan.selection or []
    ]
    rebuilt: set[str] = set()
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in rebuilt:
                rebuilt.add(child)
                pending.append(child)
    return rebuilt


def left_alone(manifest: Mapping[str, Any], plan: DbtBuildPlan) -> tuple[list[str], list[str]]:
    """What a plan does not touch: the models and seeds (each after the nodes it depends on)
    and the data tests none of whose tested nodes is rebuilt. A test that touches a rebuilt
    node runs, also when its other side (a dimension, say) is left alone."""
    if plan.selection is None:
        return [], []
    rebuilt = _rebuilt(manifest, plan)
    nodes = manifest.get("nodes") or {}
    alone = {
        unique_id
        for unique_id, node in nodes.items()
        if node.get("resource_type") in {"model", "seed", "snapshot"} and unique_id not in rebuilt
    }
    order = graphlib.TopologicalSorter(
        {
            unique_id: [
                parent
                for parent in nodes[unique_id].get("depends_on", {}).get("nodes", [])
                if parent in alone
            ]
            for unique_id in alone
        }
    )
    tests = sorted(
        unique_id
        for unique_id, node in nodes.items()
        if node.get("resource_type") == "test"
        and not rebuilt.intersection(node.get("depends_on", {}).get("nodes", []))
    )
    return list(order.static_order()), tests


def start_build(
    connection: duckdb.DuckDBPyConnection, plan: DbtBuildPlan, run_id: str, status: str = "running"
) -> int:
    """Write the build down before dbt touches a table; returns its number."""
    connection.execute(BUILDS_TABLE_DDL)
    (number,) = connection.execute(  # type: ignore[misc]
        "select coalesce(max(build_number), 0) + 1 from audit.dbt_builds"
    ).fetchone()
    connection.execute(
        "insert into audit.dbt_builds (build_number, run_id, started_at, finished_at, status,"
        " project_fingerprint, source_fingerprints, selection, reason)"
        " values (?, ?, ?, null, ?, ?, ?, ?, ?)",
        [
            number,
            run_id,
            clock.now(),
            status,
            plan.project_fingerprint,
            json.dumps(plan.source_fingerprints, sort_keys=True),
            plan.describe(),
            plan.reason,
        ],
    )
    return int(number)


def finish_build(
    connection: duckdb.DuckDBPyConnection, build_number: int, project_built: str
) -> None:
    """Mark a build succeeded: the next one starts from its fingerprints. ``project_built`` is
    the fingerprint of the project dbt actually built (its own parse of the files on disk)."""
    connection.execute(
        "update audit.dbt_builds set status = 'succeeded', finished_at = ?,"
        " project_fingerprint = ? where build_number = ?",
        [clock.now(), project_built, build_number],
    )
