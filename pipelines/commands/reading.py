"""``maglumat sql`` and ``maglumat search``: read the published snapshot."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.cli_arguments import UsageError
from pipelines.commands.home import (
    existing_home_paths,
)


def sql(
    query: str,
    output: str | None,
    as_of: str | None = None,
    max_rows: int = 50,
    excel_csv: bool = False,
) -> int:
    """Query the published snapshot (or the one in force ``as_of``): print each statement's
    result (at most ``max_rows`` rows, 0 for all; full width into a pipe), or write the one
    statement's result to ``output`` (.csv, .xlsx or .parquet). Bad SQL is one line on stderr
    and exit code 2."""
    import duckdb
    import polars as pl

    from warehouse.client import Warehouse, check_output_path, write_frame

    target = check_output_path(Path(output)) if output else None
    if excel_csv and (target is None or target.suffix.lower() != ".csv"):
        raise UsageError("--excel-csv: goes with --output FILE.csv")
    with Warehouse(existing_home_paths().home, as_of=as_of) as warehouse:
        if as_of:
            print(f"[sql] snapshot {warehouse.snapshot_id}, in force at {as_of}", file=sys.stderr)
        try:
            statements = [s.query.strip() for s in warehouse.connection.extract_statements(query)]
            if not statements:
                raise UsageError(
                    'QUERY: no SQL statement in it; e.g. maglumat sql "select 1"'
                    " (`maglumat search WORDS` finds tables and indicators)"
                )
            if target and len(statements) > 1:
                raise UsageError(
                    f"--output: writes one statement's result, and the query has {len(statements)}"
                )
            results = [(statement, warehouse.sql(statement)) for statement in statements]
        except duckdb.Error as error:
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            print(f"maglumat sql: {first_line}", file=sys.stderr)
            return 2
    if target:
        ((_, frame),) = results
        write_frame(frame, target, excel=excel_csv)
        print(f"{frame.height} rows written to {output}")
        return 0
    into_pipe = not sys.stdout.isatty()
    for statement, frame in results:
        if len(results) > 1:
            print(f"-- {statement}")
        shown = frame.height if max_rows == 0 else min(max_rows, frame.height)
        with pl.Config(
            tbl_rows=shown,
            tbl_cols=-1 if into_pipe else 20,
            fmt_str_lengths=10_000 if into_pipe else 40,
            tbl_width_chars=65_535 if into_pipe else 160,
        ):
            print(frame)
        if shown < frame.height:
            print(
                f"[sql] {shown} of {frame.height} rows shown: --max-rows N or --all to see"
                " more, --output FILE.xlsx to keep them all",
                file=sys.stderr,
            )
    return 0


def search(words: Sequence[str], language: str | None, limit: int, as_of: str | None) -> int:
    """Indicators, tables and columns matching every word; 1 when nothing matches."""
    from warehouse.client import Warehouse
    from warehouse.search import render
    from warehouse.search import search as search_catalogue

    with Warehouse(existing_home_paths().home, as_of=as_of) as warehouse:
        results = search_catalogue(
            warehouse.connection, " ".join(words), language=language, limit=limit
        )
    print(render(results))
    return 0 if results.hits else 1


_ROWS_SHOWN_PER_HELD_BATCH = 20
