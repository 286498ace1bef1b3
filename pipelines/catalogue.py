"""The catalogue checked as a whole where the definitions are built (and by ``make test``).

``maglumat.catalogue`` reads and types each system; this adds what needs the layers above it:
each system's kind names an extractor that accepts the table's options, and each expectation
suite speaks only of the systems, tables and columns the catalogue declares.
"""

from __future__ import annotations

from pathlib import Path

from maglumat.catalogue import CatalogueError, SourceSystem
from maglumat.settings import SUITES_DIR
from pipelines.extract import options_check_for
from quality.suites import SuiteError, check_suites


def check_catalogue(
    systems: list[SourceSystem], suites_dir: Path = SUITES_DIR
) -> list[SourceSystem]:
    """The systems, once every kind, option and suite has been checked against them."""
    for system in systems:
        where = f"{system.catalogue_file}, system {system.name}"
        try:
            check = options_check_for(system.kind)
        except ValueError as error:
            raise CatalogueError(f"{where}: kind: {error}") from None
        for table in system.tables:
            try:
                check(system, table)
            except CatalogueError:
                raise
            except (ValueError, TypeError, KeyError) as error:
                raise CatalogueError(f"{where}, table {table.name}: {error}") from None
    try:
        check_suites(systems, suites_dir)
    except SuiteError as error:
        raise CatalogueError(str(error)) from None
    return systems
