"""Search the snapshot's catalogue: indicators, tables and columns by name and description.

Texts and query are folded the same way before matching: case, and the letters people often
type without their marks (Turkmen ş ý ä ö ü ň ç ž, Russian ё, other Latin accents), so "bugday"
finds "bugdaý" and "ученые" finds "учёные". Every query word must match some field of a result
(a word of the field starting with it; for words of six letters or more, also with the word
less its last two letters, which forgives Russian and Turkmen endings at a lower score). A match
in a name or identifier counts twice as much as one in a description.

The index is built in memory from the snapshot at each call (the whole catalogue is a few
thousand texts), so it is always the catalogue of the snapshot being read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from maglumat.languages import LANGUAGES
from warehouse.docs_catalog import read_columns, read_tables

# Schemas an economist reads; raw, staging and intermediate are the pipeline's own steps.
SEARCHED_SCHEMAS = ("indicators", "marts", "reference", "audit")
KIND_ORDER = {"indicator": 0, "table": 1, "column": 2}
NAME_WEIGHT = 2.0
DESCRIPTION_WEIGHT = 1.0
STEM_MIN_LENGTH = 6

# Letters typed without their marks. Turkmen and Russian ones explicitly (й must stay й);
# other Latin letters lose their combining marks in ``fold``.
_FOLDED_LETTERS = str.maketrans(
    {"ş": "s", "ý": "y", "ä": "a", "ö": "o", "ü": "u", "ň": "n", "ç": "c", "ž": "z", "ё": "е"}
)
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Lower case, Turkmen and Russian letters without marks, Latin accents removed."""
    folded = text.casefold().translate(_FOLDED_LETTERS)
    letters = []
    for letter in folded:
        if letter.isascii() or not ("\u00c0" <= letter <= "\u024f"):
            letters.append(letter)
        else:
            letters.append(
                "".join(
                    c for c in unicodedata.normalize("NFKD", letter) if not unicodedata.combining(c)
                )
            )
    return "".join(letters)


def words(text: str | None) -> list[str]:
    """The folded words of a text; identifiers split at underscores and dots."""
    return _WORD.findall(fold(text or ""))


def _match_quality(query_word: str, field_words: tuple[str, ...]) -> float:
    """1 for a whole word, 0.8 for the start of a word, 0.5 for the stem of a long word."""
    best = 0.0
    stem = query_word[:-2] if len(query_word) >= STEM_MIN_LENGTH else None
    for word in field_words:
        if word == query_word:
            return 1.0
        if word.startswith(query_word):
            best = max(best, 0.8)
        elif stem and word.startswith(stem):
            best = max(best, 0.5)
    return best


@dataclass(frozen=True)
class SearchField:
    words: tuple[str, ...]
    weight: float
    language: str | None  # None: an identifier, the same in every language


@dataclass
class Entry:
    kind: str  # indicator, table or column
    key: str  # indicator id, schema.table or schema.table.column
    names: dict[str, str]
    descriptions: dict[str, str]
    fields: list[SearchField]
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    language: str

    @property
    def name(self) -> str:
        names = self.entry.names
        return names.get(self.language) or names.get("en") or self.entry.key

    @property
    def description(self) -> str:
        descriptions = self.entry.descriptions
        return descriptions.get(self.language) or descriptions.get("en") or ""


@dataclass
class LatestValue:
    period_type: str
    period_start: Any
    breakdown: str | None
    value: float | None
    status: str | None


@dataclass
class SearchResults:
    query: str
    hits: list[Hit]
    latest: dict[str, list[LatestValue]]

    def of_kind(self, kind: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.entry.kind == kind]

    def to_frame(self) -> pl.DataFrame:
        rows = []
        for hit in self.hits:
            latest = self.latest.get(hit.entry.key) or [None]
            first = latest[0]
            rows.append(
                {
                    "kind": hit.entry.kind,
                    "key": hit.entry.key,
                    "name": hit.name,
                    "description": hit.description,
                    "score": hit.score,
                    "unit": hit.entry.details.get("unit"),
                    "data_type": hit.entry.details.get("data_type"),
                    "latest_period_type": first.period_type if first else None,
                    "latest_period_start": first.period_start if first else None,
                    "latest_breakdown": first.breakdown if first else None,
                    "latest_value": first.value if first else None,
                }
            )
        return pl.DataFrame(
            rows,
            schema={
                "kind": pl.String,
                "key": pl.String,
                "name": pl.String,
                "description": pl.String,
                "score": pl.Float64,
                "unit": pl.String,
                "data_type": pl.String,
                "latest_period_type": pl.String,
                "latest_period_start": pl.Date,
                "latest_breakdown": pl.String,
                "latest_value": pl.Float64,
            },
        )


def _identifier_field(*identifiers: str) -> SearchField:
    return SearchField(tuple(w for text in identifiers for w in words(text)), NAME_WEIGHT, None)


def build_index(connection: duckdb.DuckDBPyConnection) -> list[Entry]:
    """Every indicator, table and column of the snapshot, with its folded words."""
    entries: list[Entry] = []
    indicators = connection.execute(
        "select indicator_id, name_tk, name_ru, name_en, description_tk, description_ru,"
        " description_en, unit, sector from indicators.dim_indicators order by indicator_id"
    ).fetchall()
    for indicator_id, *texts, unit, sector in indicators:
        names = dict(zip(LANGUAGES, texts[:3], strict=True))
        descriptions = dict(zip(LANGUAGES, texts[3:], strict=True))
        fields = [_identifier_field(indicator_id)]
        for language in LANGUAGES:
            fields.append(SearchField(tuple(words(names[language])), NAME_WEIGHT, language))
            fields.append(
                SearchField(tuple(words(descriptions[language])), DESCRIPTION_WEIGHT, language)
            )
        entries.append(
            Entry(
                "indicator",
                indicator_id,
                names,
                descriptions,
                fields,
                {"unit": unit, "sector": sector},
            )
        )
    tables = read_tables(connection).filter(pl.col("schema_name").is_in(SEARCHED_SCHEMAS))
    for table in tables.iter_rows(named=True):
        key = f"{table['schema_name']}.{table['table_name']}"
        description = table["description"] or ""
        entries.append(
            Entry(
                "table",
                key,
                {},
                {"en": description},
                [
                    _identifier_field(table["table_name"]),
                    SearchField(tuple(words(description)), DESCRIPTION_WEIGHT, "en"),
                ],
                {"rows": table["row_count"], "table_type": table["table_type"]},
            )
        )
    columns = read_columns(connection).filter(pl.col("schema_name").is_in(SEARCHED_SCHEMAS))
    for column in columns.iter_rows(named=True):
        key = f"{column['schema_name']}.{column['table_name']}.{column['column_name']}"
        description = column["description"] or ""
        entries.append(
            Entry(
                "column",
                key,
                {},
                {"en": description},
                [
                    _identifier_field(column["column_name"]),
                    SearchField(tuple(words(description)), DESCRIPTION_WEIGHT, "en"),
                ],
                {"data_type": column["data_type"]},
            )
        )
    return entries


def _score(entry: Entry, query_words: list[str], language: str | None) -> tuple[float, str]:
    """The entry's score (0 when a word matches nothing) and the language it matched in."""
    fields = [f for f in entry.fields if language is None or f.language in (None, language)]
    total = 0.0
    by_language = dict.fromkeys(LANGUAGES, 0.0)
    for query_word in query_words:
        best = 0.0
        for search_field in fields:
            quality = _match_quality(query_word, search_field.words) * search_field.weight
            best = max(best, quality)
            if search_field.language and quality:
                by_language[search_field.language] += quality
        if best == 0.0:
            return 0.0, "en"
        total += best
    matched_in = language or max(LANGUAGES, key=lambda lang: (by_language[lang], lang == "en"))
    return total, matched_in


def latest_values(
    connection: duckdb.DuckDBPyConnection, indicator_ids: list[str]
) -> dict[str, list[LatestValue]]:
    """Each indicator's latest country value: its first (finest) period type, the latest
    period, every breakdown of that period."""
    if not indicator_ids:
        return {}
    rows = connection.execute(
        """
        with wanted as (
            select indicator_id, trim(split_part(periodicity, ',', 1)) as period_type
            from indicators.dim_indicators
            where list_contains(?, indicator_id)
        ),
        country as (
            select facts.indicator_id, facts.period_type, facts.period_start,
                   facts.breakdown, facts.value, facts.status
            from indicators.fct_indicator_values as facts
            inner join wanted
                on facts.indicator_id = wanted.indicator_id
                and facts.period_type = wanted.period_type
            where facts.region_level = 'country' and facts.enterprise_id is null
              and facts.value is not null
        )
        select indicator_id, period_type, period_start, breakdown, value, status
        from country
        qualify period_start = max(period_start) over (partition by indicator_id)
        order by indicator_id, breakdown
        """,
        [indicator_ids],
    ).fetchall()
    latest: dict[str, list[LatestValue]] = {}
    for indicator_id, period_type, period_start, breakdown, value, status in rows:
        latest.setdefault(indicator_id, []).append(
            LatestValue(period_type, period_start, breakdown, value, status)
        )
    return latest


def search(
    connection: duckdb.DuckDBPyConnection,
    query: str,
    *,
    language: str | None = None,
    limit: int = 10,
) -> SearchResults:
    """The best ``limit`` indicators, tables and columns (each) matching every word of ``query``."""
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language {language!r}: expected one of {', '.join(LANGUAGES)}")
    query_words = words(query)
    if not query_words:
        raise ValueError("nothing to search for: give one or more words")
    hits = []
    for entry in build_index(connection):
        score, matched_in = _score(entry, query_words, language)
        if score > 0:
            hits.append(Hit(entry, score, matched_in))
    hits.sort(key=lambda hit: (-hit.score, KIND_ORDER[hit.entry.kind], hit.entry.key))
    kept: list[Hit] = []
    for kind in KIND_ORDER:
        kept.extend([hit for hit in hits if hit.entry.kind == kind][:limit])
    found_indicators = [hit.entry.key for hit in kept if hit.entry.kind == "indicator"]
    return SearchResults(query, kept, latest_values(connection, found_indicators))


def _format_value(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:.3g}"


def render(results: SearchResults, max_breakdowns: int = 3) -> str:
    """The results as text for the terminal, by kind, best first."""
    lines: list[str] = []
    indicators = results.of_kind("indicator")
    if indicators:
        lines.append(f"Indicators ({len(indicators)})")
        for hit in indicators:
            unit = hit.entry.details.get("unit") or ""
            lines.append(f"  {hit.entry.key}  {hit.name}")
            latest = results.latest.get(hit.entry.key, [])
            if not latest:
                lines.append("      latest: no country value yet")
            for value in latest[:max_breakdowns]:
                where = f", {value.breakdown}" if value.breakdown else ""
                status = f", {value.status}" if value.status else ""
                lines.append(
                    f"      latest: {_format_value(value.value)} {unit}"
                    f" ({value.period_type} {value.period_start}{where}{status})"
                )
            if len(latest) > max_breakdowns:
                lines.append(f"      ... and {len(latest) - max_breakdowns} more breakdowns")
    tables = results.of_kind("table")
    if tables:
        lines.append(f"Tables ({len(tables)})")
        for hit in tables:
            lines.append(f"  {hit.entry.key}  {hit.description}")
    columns = results.of_kind("column")
    if columns:
        lines.append(f"Columns ({len(columns)})")
        for hit in columns:
            data_type = hit.entry.details.get("data_type") or ""
            lines.append(f"  {hit.entry.key} ({data_type})  {hit.description}")
    if not lines:
        lines.append(f"nothing found for {results.query!r}")
    return "\n".join(lines)
