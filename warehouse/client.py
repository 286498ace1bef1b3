"""The economists' Python API: the published snapshot as polars frames, read-only.

::

    from warehouse.client import Warehouse

    wh = Warehouse()                                  # the current snapshot of MAGLUMAT_HOME
    wh.indicators()                                   # the catalogue, names in tk/ru/en
    wh.indicator("fe_gas_output_bcm", level="province", period_type="month", start="2023-01-01")
    wh.sql("select * from marts.dim_regions where region_level = ?", ["province"])
    Warehouse(as_of="2023-09-12")                     # what was published by the end of that day

Every connection is made by ``warehouse.duck.read_only_connection``: the snapshot file is opened
read-only, external access (files, network, extensions) is off and the configuration is locked,
so no query can write, copy data out, read another file or switch access back on. A snapshot is
never changed once published and a reader never blocks the pipeline, so queries run while the
pipeline loads.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import polars as pl

from maglumat import clock
from maglumat.settings import MaglumatPaths
from warehouse.docs_catalog import read_columns, read_tables
from warehouse.duck import read_only_connection
from warehouse.snapshot import (
    Snapshot,
    SnapshotNotFoundError,
    current_snapshot,
    snapshot_in_force,
)

# What ``write_frame`` writes, by the file's extension.
OUTPUT_FORMATS = (".csv", ".xlsx", ".parquet")


def _moment(as_of: dt.date | dt.datetime | str) -> dt.datetime:
    """The instant an ``as_of`` stands for: a date is the end of that day in Aşgabat, a time
    without a zone is Aşgabat time."""
    if isinstance(as_of, str):
        try:
            as_of = dt.date.fromisoformat(as_of)
        except ValueError:
            try:
                as_of = dt.datetime.fromisoformat(as_of)
            except ValueError as error:
                raise ValueError(
                    f"as of {as_of!r}: expected a date (2023-09-12) or a time (2023-09-12T18:00)"
                ) from error
    if isinstance(as_of, dt.datetime):
        return as_of if as_of.tzinfo else as_of.replace(tzinfo=clock.LOCAL_TIMEZONE)
    # Dates name days in Aşgabat: "as of 12 September" is the end of that day there.
    return clock.end_of_local_day(as_of)


def snapshot_connection(database: Path) -> duckdb.DuckDBPyConnection:
    """A read-only, locked connection to a snapshot (``warehouse.duck.read_only_connection``).

    DuckDB keeps one instance per file in a process, so a second connection to a snapshot that
    is already open here joins the first one's instance, whose configuration is locked already:
    locking it again is refused. That connection is as safe as the first; it is checked to be.
    """
    try:
        return read_only_connection(database)
    except duckdb.InvalidInputException:
        connection = duckdb.connect(
            str(database),
            read_only=True,
            config={"enable_external_access": False, "autoload_known_extensions": False},
        )
        settings = connection.execute(
            "select current_setting('lock_configuration'),"
            " current_setting('enable_external_access')"
        ).fetchone()
        if settings != (True, False):
            connection.close()
            raise
        return connection


def find_snapshot(paths: MaglumatPaths, as_of: dt.date | dt.datetime | str | None) -> Snapshot:
    """The current snapshot, or the one in force at ``as_of`` (see ``_moment``)."""
    if as_of is None:
        snapshot = current_snapshot(paths)
        if snapshot is None:
            raise SnapshotNotFoundError(
                f"no snapshot published under {paths.snapshots} yet: run the pipeline first"
            )
        return snapshot
    return snapshot_in_force(paths, _moment(as_of))


def check_output_path(path: Path) -> Path:
    """``path`` if its extension names a format ``write_frame`` writes, else ValueError."""
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise ValueError(f"{path}: the file name must end in {', '.join(OUTPUT_FORMATS)}")
    return path


def write_frame(frame: pl.DataFrame, path: Path, excel: bool = False) -> None:
    """Write a query result as CSV, XLSX (one sheet, with a header row) or Parquet, chosen by
    the file's extension. The file is written by the calling process, never by the read-only
    snapshot connection.

    CSV is UTF-8 with commas and decimal points, for programs; ``excel`` writes it as Excel in
    a Russian or Turkmen locale reads a double-clicked file: a byte order mark (or Cyrillic
    and Turkmen letters are garbled), `;` between fields and decimal commas."""
    suffix = check_output_path(path).suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv" and excel:
        frame.write_csv(path, include_bom=True, separator=";", decimal_comma=True)
    elif suffix == ".csv":
        frame.write_csv(path)
    elif suffix == ".xlsx":
        frame.write_excel(path, worksheet="result", autofit=True)
    else:
        frame.write_parquet(path)


class Warehouse:
    """A read-only view of one published snapshot.

    Args:
        home: The deployment's home folder (default: ``MAGLUMAT_HOME``, else ``./var``).
        as_of: A date, time or ISO string: read the snapshot that was current then (by the end
            of the day, for a date) instead of the current one. Snapshots are kept for the
            deployment's retention period (30 days by default).
    """

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        as_of: dt.date | dt.datetime | str | None = None,
    ) -> None:
        self.paths = MaglumatPaths(Path(home).resolve()) if home else MaglumatPaths.from_env()
        self.snapshot = find_snapshot(self.paths, as_of)
        self._connection: duckdb.DuckDBPyConnection | None = snapshot_connection(self.snapshot.path)

    @property
    def snapshot_id(self) -> str:
        return self.snapshot.snapshot_id

    @property
    def snapshot_info(self) -> dict[str, Any]:
        """The snapshot's ``snapshot.json``: when it was published, the batches it includes,
        the held batches it does not, each source's reach and the systems that were late."""
        return dict(self.snapshot.metadata)

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The underlying read-only DuckDB connection (for ``.sql(...).df()`` and the like)."""
        if self._connection is None:
            raise RuntimeError("this Warehouse is closed")
        return self._connection

    def sql(self, query: str, params: list[Any] | dict[str, Any] | None = None) -> pl.DataFrame:
        """Run a query (``?`` or ``$name`` parameters) and return its result."""
        return self.connection.execute(query, params).pl()

    def tables(self, schema: str | None = None) -> pl.DataFrame:
        """Tables and views with their descriptions (``docs.tables``)."""
        return read_tables(self.connection, schema)

    def columns(self, table: str | None = None, schema: str | None = None) -> pl.DataFrame:
        """Columns with their types and descriptions (``docs.columns``)."""
        return read_columns(self.connection, table, schema)

    def indicators(self, sector: str | None = None) -> pl.DataFrame:
        """The indicator catalogue (``indicators.dim_indicators``): names and descriptions in
        Turkmen, Russian and English, unit, owner, formula, periods and thresholds."""
        return self.sql(
            "select * from indicators.dim_indicators where ? is null or sector = ?"
            " order by sector, indicator_id",
            [sector, sector],
        )

    def indicator(
        self,
        indicator_id: str,
        *,
        region: str | list[str] | None = None,
        level: str | None = None,
        period_type: str | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        breakdown: str | None = None,
        enterprise: str | bool | None = None,
    ) -> pl.DataFrame:
        """Values of one indicator from ``indicators.fct_indicator_values`` (region totals) or,
        with ``enterprise``, ``indicators.fct_enterprise_indicator_values``.

        Args:
            indicator_id: e.g. ``fe_gas_output_bcm`` (see ``indicators()``).
            region: a region id (``TM``, ``TM-A``, ``TM-A-02``) or a list of them.
            level: ``country``, ``province`` or ``district``.
            period_type: ``day``, ``week``, ``month``, ``quarter``, ``year``, ``campaign`` or
                ``ytd`` (year to date; period_start is the month it runs through).
            start, end: bounds (inclusive) on the period's first day.
            breakdown: one value of the indicator's breakdown (a campaign, a document type ...).
            enterprise: None for region totals (the default), an enterprise id for that
                enterprise's rows, True for every enterprise's rows.
        """
        known = self.sql(
            "select indicator_id from indicators.dim_indicators where indicator_id = ?",
            [indicator_id],
        )
        if known.is_empty():
            every = self.sql("select indicator_id from indicators.dim_indicators")
            close = difflib.get_close_matches(indicator_id, every["indicator_id"].to_list(), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"no indicator {indicator_id!r} in the catalogue{hint}")
        mart = (
            "indicators.fct_indicator_values"
            if enterprise is None or enterprise is False
            else "indicators.fct_enterprise_indicator_values"
        )
        for argument, column, given in (
            ("level", "region_level", level),
            ("period_type", "period_type", period_type),
        ):
            if given is None:
                continue
            present = self.sql(
                f"select distinct {column} from {mart}"  # noqa: S608
                f" where indicator_id = ? order by 1",
                [indicator_id],
            ).to_series()
            if given not in present.to_list():
                raise ValueError(
                    f"{argument}={given!r}: {indicator_id} has values for"
                    f" {argument} {', '.join(map(str, present.to_list())) or 'nothing yet'}"
                )
        regions = [region] if isinstance(region, str) else region
        return self.sql(
            f"""
            select
                facts.indicator_id, facts.period_type, facts.period_start,
                facts.region_level, facts.region_id, regions.name_en as region_name_en,
                facts.enterprise_id, facts.breakdown, facts.value, catalogue.unit,
                facts.target, facts.variance, facts.status,
                facts.numerator, facts.denominator
            from {mart} as facts
            inner join indicators.dim_indicators as catalogue
                on facts.indicator_id = catalogue.indicator_id
            left join marts.dim_regions as regions on facts.region_id = regions.region_id
            where facts.indicator_id = $indicator_id
              and ($regions::varchar[] is null or list_contains($regions, facts.region_id))
              and ($level::varchar is null or facts.region_level = $level)
              and ($period_type::varchar is null or facts.period_type = $period_type)
              and ($start::date is null or facts.period_start >= $start)
              and ($end::date is null or facts.period_start <= $end)
              and ($breakdown::varchar is null or facts.breakdown = $breakdown)
              and case
                  when $enterprise::varchar = '*' then facts.enterprise_id is not null
                  when $enterprise::varchar is null then facts.enterprise_id is null
                  else facts.enterprise_id = $enterprise
              end
            order by facts.period_type, facts.period_start, facts.region_level,
                facts.region_id, facts.enterprise_id, facts.breakdown
            """,  # noqa: S608 - the mart is one of two names
            {
                "indicator_id": indicator_id,
                "regions": regions,
                "level": level,
                "period_type": period_type,
                "start": dt.date.fromisoformat(start) if isinstance(start, str) else start,
                "end": dt.date.fromisoformat(end) if isinstance(end, str) else end,
                "breakdown": breakdown,
                "enterprise": "*" if enterprise is True else (enterprise or None),
            },
        )

    def search(self, words: str, language: str | None = None, limit: int = 10) -> pl.DataFrame:
        """Indicators, tables and columns whose names or descriptions contain every word
        (Turkmen, Russian or English; diacritics optional), best first, with each indicator's
        latest country value."""
        from warehouse.search import search

        return search(self.connection, words, language=language, limit=limit).to_frame()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Warehouse(snapshot={self.snapshot_id!r}, path={str(self.snapshot.path)!r})"
