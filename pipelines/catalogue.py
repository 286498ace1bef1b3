"""The source catalogue: sector systems described as data.

Each sector keeps a ``sources.yml`` in its own folder under ``pipelines/``. A system names its
kind (which generic extractor reads it), where its connection comes from (an environment
variable, never a literal secret), its tables with business key and cursor column, and when it
is expected to deliver. Adding a system of a known kind is adding such an entry and an
expectation suite under ``quality/suites/``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from maglumat.clock import LOCAL_TIMEZONE_NAME
from maglumat.languages import LANGUAGES
from maglumat.settings import CATALOGUE_DIR, MaglumatPaths

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# incremental: rows past a cursor column; full: the whole table each time (small reference
# tables); append: the source hands over new units itself (files in an inbox, event log lines).
ExtractMode = Literal["incremental", "full", "append"]


class CatalogueError(ValueError):
    """A catalogue file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class SourceTable:
    name: str
    business_key: tuple[str, ...]
    mode: ExtractMode
    cursor: str | None = None
    description: str = ""
    # The system's name in Turkmen, Russian and English (``title`` in the catalogue).
    titles: dict[str, str] = field(default_factory=dict, compare=False)
    options: dict[str, Any] = field(default_factory=dict, compare=False)  # kind-specific


@dataclass(frozen=True)
class Delivery:
    """When the system is expected to have delivered the previous period's data."""

    every: Literal["day", "month"]
    expected_by: str  # HH:MM local time
    timezone: str
    grace_hours: int = 0
    day_of_month: int = 1  # for monthly systems: the day the previous month is due


@dataclass(frozen=True)
class SourceSystem:
    name: str
    sector: str
    ministry: str
    kind: str
    connection_env: str
    demo_connection: str | None
    delivery: Delivery
    tables: tuple[SourceTable, ...]
    description: str = ""
    # The system's name in Turkmen, Russian and English (``title`` in the catalogue).
    titles: dict[str, str] = field(default_factory=dict, compare=False)
    options: dict[str, Any] = field(default_factory=dict, compare=False)  # kind-specific
    catalogue_file: Path = field(default=Path(), compare=False)

    def table(self, name: str) -> SourceTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"{self.name} has no table {name!r} in {self.catalogue_file}")

    def connection(self, paths: MaglumatPaths | None = None) -> str:
        """The connection string: the environment variable, else the embedded demo default."""
        value = os.environ.get(self.connection_env)
        if value:
            return value
        if self.demo_connection is None:
            raise CatalogueError(
                f"{self.name}: set {self.connection_env} to the system's connection string"
            )
        paths = paths or MaglumatPaths.from_env()
        return self.demo_connection.format(systems=paths.systems)


def _identifier(value: object, where: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise CatalogueError(f"{where}: {value!r} is not a lowercase SQL identifier")
    return value


def _parse_table(raw: dict, where: str) -> SourceTable:
    name = _identifier(raw.get("name"), f"{where}: table name")
    where = f"{where}, table {name}"
    mode = raw.get("mode", "incremental")
    if mode not in ("incremental", "full", "append"):
        raise CatalogueError(
            f"{where}: mode must be 'incremental', 'full' or 'append', not {mode!r}"
        )
    cursor = raw.get("cursor")
    if cursor is not None or mode == "incremental":
        cursor = _identifier(cursor, f"{where}: cursor (required for incremental tables)")
    key = raw.get("business_key") or []
    if not key:
        raise CatalogueError(f"{where}: business_key is required")
    return SourceTable(
        name=name,
        business_key=tuple(_identifier(column, f"{where}: business_key") for column in key),
        mode=mode,
        cursor=cursor,
        description=str(raw.get("description", "")).strip(),
        options=dict(raw.get("options") or {}),
    )


def _parse_system(raw: dict, catalogue_file: Path) -> SourceSystem:
    name = _identifier(raw.get("name"), f"{catalogue_file}: system name")
    where = f"{catalogue_file}, system {name}"
    connection = raw.get("connection") or {}
    if "env" not in connection:
        raise CatalogueError(f"{where}: connection.env (an environment variable) is required")
    delivery = raw.get("delivery") or {}
    if delivery.get("every", "day") not in ("day", "month"):
        raise CatalogueError(f"{where}: delivery.every must be 'day' or 'month'")
    return SourceSystem(
        name=name,
        sector=_identifier(raw.get("sector"), f"{where}: sector"),
        ministry=str(raw.get("ministry", "")),
        kind=str(raw.get("kind")),
        connection_env=str(connection["env"]),
        demo_connection=connection.get("demo_default"),
        delivery=Delivery(
            every=delivery.get("every", "day"),
            expected_by=str(delivery.get("expected_by", "09:00")),
            timezone=str(delivery.get("timezone", LOCAL_TIMEZONE_NAME)),
            grace_hours=int(delivery.get("grace_hours", 0)),
            day_of_month=int(delivery.get("day_of_month", 1)),
        ),
        tables=tuple(_parse_table(table, where) for table in raw.get("tables", [])),
        description=str(raw.get("description", "")).strip(),
        titles=_titles(raw.get("title"), where),
        options=dict(raw.get("options") or {}),
        catalogue_file=catalogue_file,
    )


TITLE_LANGUAGES = LANGUAGES


def _titles(raw: Any, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) != set(TITLE_LANGUAGES):
        raise CatalogueError(f"{where}: title must give the name in tk, ru and en, not {raw!r}")
    return {language: str(raw[language]).strip() for language in TITLE_LANGUAGES}


def load_catalogue(root: Path = CATALOGUE_DIR) -> list[SourceSystem]:
    """Every system declared in ``<root>/<sector>/sources.yml``, sorted by name."""
    systems: list[SourceSystem] = []
    for catalogue_file in sorted(root.glob("*/sources.yml")):
        document = yaml.safe_load(catalogue_file.read_text(encoding="utf-8")) or {}
        systems.extend(_parse_system(raw, catalogue_file) for raw in document.get("systems", []))
    names = [system.name for system in systems]
    duplicated = {name for name in names if names.count(name) > 1}
    if duplicated:
        raise CatalogueError(f"systems declared twice: {sorted(duplicated)}")
    return sorted(systems, key=lambda system: system.name)
