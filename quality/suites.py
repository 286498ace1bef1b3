"""Read the declarative expectation suites kept in ``quality/suites/`` (one file per source)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pipelines.settings import DBT_PROJECT_DIR, SUITES_DIR
from quality.contract import CONTRACT_TYPES

REFERENCE_SEEDS = DBT_PROJECT_DIR / "seeds" / "reference"


class SuiteError(ValueError):
    """A suite file is malformed; the message names the file and the table."""


@dataclass(frozen=True)
class Expectation:
    name: str  # snake_case Great Expectations name, e.g. expect_column_values_to_be_in_set
    kwargs: dict[str, Any]

    @property
    def field(self) -> str:
        if "column" in self.kwargs:
            return str(self.kwargs["column"])
        return ",".join(self.kwargs.get("column_list", []))


@dataclass(frozen=True)
class TableSuite:
    source: str
    table: str
    columns: dict[str, str]
    min_rows: int = 1
    max_bad_row_share: float = 0.2
    expectations: tuple[Expectation, ...] = field(default_factory=tuple)
    suite_file: Path = field(default=Path(), compare=False)

    @property
    def name(self) -> str:
        return f"{self.source}.{self.table}"


@cache
def reference_values(seed: str, column: str) -> tuple[str, ...]:
    """Values of a column of a reference seed, e.g. every district code."""
    path = REFERENCE_SEEDS / f"{seed}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(sorted({row[column] for row in csv.DictReader(handle)}))


def _resolve(kwargs: dict[str, Any]) -> dict[str, Any]:
    value_set = kwargs.get("value_set")
    if isinstance(value_set, dict) and "reference" in value_set:
        seed, column = str(value_set["reference"]).split(".", 1)
        return {**kwargs, "value_set": list(reference_values(seed, column))}
    return kwargs


def load_suite(source: str, table: str, suites_dir: Path = SUITES_DIR) -> TableSuite:
    path = suites_dir / f"{source}.yml"
    if not path.exists():
        raise SuiteError(f"{source}: no expectation suite at {path}; every source needs one")
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw = (document.get("tables") or {}).get(table)
    if raw is None:
        raise SuiteError(f"{path}: no suite for table {table!r}")
    columns = {str(name): str(kind) for name, kind in (raw.get("columns") or {}).items()}
    unknown = {kind for kind in columns.values() if kind not in CONTRACT_TYPES}
    if not columns or unknown:
        raise SuiteError(
            f"{path}, table {table}: column types must be among {list(CONTRACT_TYPES)}"
        )
    expectations = []
    for entry in raw.get("expectations") or []:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise SuiteError(f"{path}, table {table}: each expectation is one `name: {{kwargs}}`")
        ((name, kwargs),) = entry.items()
        expectations.append(Expectation(str(name), _resolve(dict(kwargs or {}))))
    batch = raw.get("batch") or {}
    return TableSuite(
        source=source,
        table=table,
        columns=columns,
        min_rows=int(batch.get("min_rows", 1)),
        max_bad_row_share=float(batch.get("max_bad_row_share", 0.2)),
        expectations=tuple(expectations),
        suite_file=path,
    )
