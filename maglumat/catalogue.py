"""The source catalogue: sector systems described as data, once.

Each sector keeps a ``sources.yml`` in its own folder under ``pipelines/``. A system names its
kind (which generic extractor reads it), where its connection comes from (an environment
variable, never a literal secret), when it is expected to deliver, and its tables: business
key, cursor column and the schema contract (each column and the type it must convert to).
The extractors, the quality gate, the raw loader and the generated dbt sources all read it
from here; ``quality/suites/<system>.yml`` adds rules over these columns and may be left out.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from maglumat.clock import LOCAL_TIMEZONE_NAME
from maglumat.languages import LANGUAGES
from maglumat.settings import CATALOGUE_DIR, MaglumatPaths

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# incremental: rows past a cursor column; full: the whole table each time (small reference
# tables); append: the source hands over new units itself (files in an inbox, event log lines).
ExtractMode = Literal["incremental", "full", "append"]
# The types a landed column must convert to (quality.contract casts to them).
ColumnType = Literal["integer", "double", "string", "boolean", "date", "timestamp"]


class CatalogueError(ValueError):
    """A catalogue file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class SourceTable:
    name: str
    business_key: tuple[str, ...]
    mode: ExtractMode
    cursor: str | None = None
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict, compare=False)  # kind-specific
    # The schema contract: every column the table delivers and its type, in delivery order.
    columns: dict[str, str] = field(default_factory=dict, compare=False)


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


class _Spec(BaseModel):
    # A misspelt key is an error when the definitions load, never a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConnectionSpec(_Spec):
    env: str
    demo_default: str | None = None


class DeliverySpec(_Spec):
    every: Literal["day", "month"] = "day"
    expected_by: str = Field("09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = LOCAL_TIMEZONE_NAME
    grace_hours: int = Field(0, ge=0)
    day_of_month: int = Field(1, ge=1, le=28)


class TableSpec(_Spec):
    name: str = Field(pattern=IDENTIFIER.pattern)
    description: str = ""
    business_key: tuple[str, ...] = Field(min_length=1)
    mode: ExtractMode = "incremental"
    cursor: str | None = Field(None, pattern=IDENTIFIER.pattern)
    options: dict[str, Any] = Field(default_factory=dict)
    columns: dict[str, ColumnType] = Field(min_length=1)


class TitleSpec(_Spec):
    tk: str = Field(min_length=1)
    ru: str = Field(min_length=1)
    en: str = Field(min_length=1)


class SystemSpec(_Spec):
    """One sector system as ``pipelines/<sector>/sources.yml`` declares it."""

    name: str = Field(pattern=IDENTIFIER.pattern)
    sector: str = Field(pattern=IDENTIFIER.pattern)
    ministry: str = ""
    title: TitleSpec | None = None
    description: str = ""
    kind: str = Field(pattern=IDENTIFIER.pattern)
    connection: ConnectionSpec
    delivery: DeliverySpec = Field(default_factory=DeliverySpec)
    options: dict[str, Any] = Field(default_factory=dict)
    tables: tuple[TableSpec, ...] = Field(min_length=1)


def _problems(error: ValidationError) -> str:
    """Pydantic's findings as ``tables[2].buisness_key: not a key of the catalogue``."""
    found = []
    for problem in error.errors():
        place = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem["loc"]
        ).lstrip(".")
        if problem["type"] == "extra_forbidden":
            found.append(f"{place}: not a key of the catalogue (a misspelling?)")
        elif problem["type"] == "missing":
            found.append(f"{place}: required")
        elif place.endswith("expected_by") and problem["type"] == "string_type":
            # YAML reads an unquoted 10:00 as the number 600.
            found.append(f'{place}: write the local time in quotes, e.g. "10:00"')
        elif place.endswith("expected_by"):
            found.append(f"{place}: {problem['input']!r} is not a local time HH:MM")
        elif problem["type"] == "literal_error" and ".columns." in place:
            found.append(
                f"{place}: {problem['input']!r} is not a column type; write one of"
                f" {', '.join(ColumnType.__args__)}"
            )
        elif problem["type"] == "string_pattern_mismatch" and place.endswith(
            ("name", "sector", "kind", "cursor")
        ):
            found.append(f"{place}: {problem['input']!r} is not a lowercase SQL identifier")
        else:
            found.append(f"{place}: {problem['msg']}")
    return "; ".join(found)


def _system(raw: object, catalogue_file: Path, position: int) -> SourceSystem:
    name = raw.get("name") if isinstance(raw, dict) else None
    where = f"{catalogue_file}, system {name or f'number {position + 1}'}"
    try:
        spec = SystemSpec.model_validate(raw)
    except ValidationError as error:
        raise CatalogueError(f"{where}: {_problems(error)}") from None
    for table in spec.tables:
        if table.mode == "incremental" and table.cursor is None:
            raise CatalogueError(
                f"{where}, table {table.name}: cursor is required for incremental tables"
            )
        for column in table.columns:
            if not IDENTIFIER.match(column):
                raise CatalogueError(
                    f"{where}, table {table.name}: column {column!r} is not a lowercase SQL"
                    " identifier"
                )
        undeclared = [
            f"{role} {column!r}"
            for role, columns in (("business_key", table.business_key), ("cursor", [table.cursor]))
            for column in columns
            if column is not None and column not in table.columns
        ]
        if undeclared:
            raise CatalogueError(
                f"{where}, table {table.name}: {', '.join(undeclared)} is not among its columns"
            )
    titles = {} if spec.title is None else {
        language: getattr(spec.title, language).strip() for language in LANGUAGES
    }  # fmt: skip
    system = SourceSystem(
        name=spec.name,
        sector=spec.sector,
        ministry=spec.ministry,
        kind=spec.kind,
        connection_env=spec.connection.env,
        demo_connection=spec.connection.demo_default,
        delivery=Delivery(**spec.delivery.model_dump()),
        tables=tuple(
            SourceTable(
                name=table.name,
                business_key=table.business_key,
                mode=table.mode,
                cursor=table.cursor,
                description=table.description.strip(),
                options=dict(table.options),
                columns=dict(table.columns),
            )
            for table in spec.tables
        ),
        description=spec.description.strip(),
        titles=titles,
        options=dict(spec.options),
        catalogue_file=catalogue_file,
    )
    return system


def load_catalogue(root: Path = CATALOGUE_DIR) -> list[SourceSystem]:
    """Every system declared in ``<root>/<sector>/sources.yml``, sorted by name."""
    systems: list[SourceSystem] = []
    for catalogue_file in sorted(root.glob("*/sources.yml")):
        document = yaml.safe_load(catalogue_file.read_text(encoding="utf-8")) or {}
        systems.extend(
            _system(raw, catalogue_file, position)
            for position, raw in enumerate(document.get("systems", []))
        )
    names = [system.name for system in systems]
    duplicated = {name for name in names if names.count(name) > 1}
    if duplicated:
        raise CatalogueError(f"systems declared twice: {sorted(duplicated)}")
    return sorted(systems, key=lambda system: system.name)


def system_named(name: str, root: Path = CATALOGUE_DIR) -> SourceSystem:
    """The catalogue's system of that name."""
    for system in load_catalogue(root):
        if system.name == name:
            return system
    raise CatalogueError(f"no system {name!r} in the catalogue under {root}")
