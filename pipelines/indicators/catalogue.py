"""The indicator catalogue (``dbt_project/indicators/*.yml``): every indicator and every
system's delivery entry, read and checked against the rules a compiled, published indicator
needs (the names in three languages, the owner ministry, the formula, the periods)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

from maglumat.catalogue import SourceSystem
from maglumat.catalogue import load_catalogue as load_source_catalogue
from maglumat.languages import LANGUAGES

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
AGGREGATIONS = (
    "ratio",
    "sum",
    "per_entity",
    "yoy_growth",
    "share_below_plan",
    "percentile",
    "precomputed",
)
PERIOD_TYPES = ("day", "week", "month", "quarter", "year", "campaign", "ytd")
DIRECTIONS = ("higher_is_better", "lower_is_better")
REQUIRED = (
    "id",
    "name",
    "description",
    "sector",
    "ministry_id",
    "source",
    "date",
    "numerator",
    "factor",
    "unit",
    "aggregation",
    "periodicity",
    "target",
    "direction",
)
DELIVERY_REQUIRED = ("system", "model", "period", "delivered_at")
UNITS_REQUIRED = ("model", "unit_type", "unit", "period", "reported")


class CatalogueError(ValueError):
    """A catalogue entry breaks a rule of the catalogue."""


def load_catalogue(project_dir: Path = PROJECT_DIR) -> list[dict[str, Any]]:
    """Read every catalogue file, in file-name order, and validate the entries."""
    indicators: list[dict[str, Any]] = []
    for path in sorted((project_dir / "indicators").glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        indicators.extend(document.get("indicators", []))
    validate(indicators, ministry_ids(project_dir))
    return indicators


def ministry_ids(project_dir: Path) -> set[str]:
    path = project_dir / "seeds" / "reference" / "ref_ministries.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["ministry_id"] for row in csv.DictReader(handle)}


def validate(indicators: list[dict[str, Any]], ministry_ids: set[str]) -> None:
    """Raise CatalogueError on the first entry that cannot be compiled or published."""
    seen: set[str] = set()
    for ind in indicators:
        ident = str(ind.get("id"))
        missing = [key for key in REQUIRED if key not in ind]
        if missing:
            raise CatalogueError(f"{ident}: missing {', '.join(missing)}")
        if not ident.isidentifier() or ident != ident.lower():
            raise CatalogueError(f"{ident}: id must be a lowercase identifier")
        if ident in seen:
            raise CatalogueError(f"{ident}: duplicate id")
        seen.add(ident)
        for field in ("name", "description"):
            texts = ind[field]
            if not isinstance(texts, dict) or any(
                not str(texts.get(lang) or "").strip() for lang in LANGUAGES
            ):
                raise CatalogueError(f"{ident}: {field} needs tk, ru and en")
        if ind["ministry_id"] not in ministry_ids:
            raise CatalogueError(f"{ident}: unknown ministry_id {ind['ministry_id']}")
        if ind["aggregation"] not in AGGREGATIONS:
            raise CatalogueError(f"{ident}: unknown aggregation {ind['aggregation']}")
        if ind["direction"] not in DIRECTIONS:
            raise CatalogueError(f"{ident}: direction must be one of {DIRECTIONS}")
        bad = [p for p in ind["periodicity"] if p not in PERIOD_TYPES]
        if bad or not ind["periodicity"]:
            raise CatalogueError(f"{ident}: bad periodicity {bad}")
        # A year to date adds up a year's months: it needs both and means nothing for levels.
        if "ytd" in ind["periodicity"] and (
            not {"month", "year"} <= set(ind["periodicity"])
            or ind.get("time_aggregation", "sum") != "sum"
        ):
            raise CatalogueError(f"{ident}: ytd needs month and year periods and a flow (sum)")
        if ind["aggregation"] in ("ratio", "share_below_plan") and not ind.get("denominator"):
            raise CatalogueError(f"{ident}: a {ind['aggregation']} needs a denominator")
        if ind["aggregation"] == "percentile" and not 0 < float(ind.get("percentile", 0)) < 1:
            raise CatalogueError(f"{ident}: percentile must be between 0 and 1")
        if ind["aggregation"] == "per_entity" and not ind.get("entity"):
            raise CatalogueError(f"{ident}: per_entity needs an entity column")
        if ind["aggregation"] == "share_below_plan" and not ind.get("entity"):
            raise CatalogueError(f"{ident}: share_below_plan needs an entity column")
        if ind["aggregation"] == "precomputed" and not (
            ind.get("region_level") and ind.get("region_id")
        ):
            raise CatalogueError(f"{ident}: precomputed needs region_level and region_id")
        population = ind.get("population")
        if ind.get("filter") and population is None:
            raise CatalogueError(f"{ident}: a filter needs a population (who is counted, tk/ru/en)")
        if population is not None and (
            not isinstance(population, dict)
            or any(not str(population.get(lang) or "").strip() for lang in LANGUAGES)
        ):
            raise CatalogueError(f"{ident}: population needs tk, ru and en")
        target = ind["target"]
        if target.get("type") not in ("constant", "measure", "none"):
            raise CatalogueError(f"{ident}: target type must be constant, measure or none")
        if target["type"] == "measure" and not ind.get("target_measure"):
            raise CatalogueError(f"{ident}: a measure target needs target_measure")
        thresholds = ind.get("thresholds")
        if thresholds is not None:
            if thresholds.get("basis") not in ("value", "pct_of_target"):
                raise CatalogueError(f"{ident}: thresholds basis must be value or pct_of_target")
            green, amber = float(thresholds["green"]), float(thresholds["amber"])
            ordered = green >= amber if ind["direction"] == "higher_is_better" else green <= amber
            if not ordered:
                raise CatalogueError(f"{ident}: green threshold must be beyond amber")


def load_deliveries(
    project_dir: Path = PROJECT_DIR, systems: list[SourceSystem] | None = None
) -> list[dict[str, Any]]:
    """Where each sector system's deliveries show (the ``deliveries`` of the indicator files)."""
    deliveries: list[dict[str, Any]] = []
    for path in sorted((project_dir / "indicators").glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        deliveries.extend(document.get("deliveries", []))
    validate_deliveries(deliveries, systems if systems is not None else load_source_catalogue())
    return deliveries


def validate_deliveries(deliveries: list[dict[str, Any]], systems: list[SourceSystem]) -> None:
    """Every system of the source catalogue needs exactly one delivery entry, and no other."""
    names = {system.name for system in systems}
    seen: set[str] = set()
    for entry in deliveries:
        system = str(entry.get("system"))
        missing = [key for key in DELIVERY_REQUIRED if not entry.get(key)]
        if missing:
            raise CatalogueError(f"delivery {system}: missing {', '.join(missing)}")
        if system not in names:
            raise CatalogueError(f"delivery {system}: not a system of pipelines/*/sources.yml")
        if system in seen:
            raise CatalogueError(f"delivery {system}: declared twice")
        seen.add(system)
        window = entry.get("expected_during")
        if window is not None and not all(window.get(k) for k in ("model", "start", "end")):
            raise CatalogueError(f"delivery {system}: expected_during needs model, start, end")
    if names - seen:
        raise CatalogueError(f"systems without a delivery entry: {sorted(names - seen)}")
    for entry in deliveries:
        units = entry.get("units")
        missing = [key for key in UNITS_REQUIRED if not (units or {}).get(key)]
        if units is not None and missing:
            raise CatalogueError(f"delivery {entry['system']}: units need {', '.join(missing)}")


def sectors(indicators: list[dict[str, Any]]) -> list[str]:
    """Sectors in the order they first appear."""
    return list(dict.fromkeys(ind["sector"] for ind in indicators))


def wide_indicators(indicators: list[dict[str, Any]], sector: str) -> list[dict[str, Any]]:
    """Indicators of a sector that fit a monthly wide mart (monthly, no breakdown)."""
    return [
        ind
        for ind in indicators
        if ind["sector"] == sector and "month" in ind["periodicity"] and not ind.get("breakdown")
    ]
