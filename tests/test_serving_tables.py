"""How a snapshot's tables become served tables, decided without the pipeline: DuckDB's types
mapped to PostgreSQL's and kept exact through the copy, each model's declared readers, and
columns that identify a person recognised and never served."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.assets.transform import manifest_path
from tests.serving_support import fresh_database, small_snapshot
from warehouse.serving import (
    PERSONAL_COLUMN,
    ServingError,
    postgres_type,
    publish_to_postgres,
    table_access,
)
from warehouse.serving.access import DECLARED_ACCESS

pytestmark = pytest.mark.postgres


def test_duckdb_types_map_to_postgres_types() -> None:
    assert postgres_type("DATE") == "date"
    assert postgres_type("TIMESTAMP WITH TIME ZONE") == "timestamptz"
    assert postgres_type("DECIMAL(18,3)") == "numeric(18,3)"
    assert postgres_type("BOOLEAN") == "boolean"
    assert postgres_type("VARCHAR[]") == "text[]"
    assert postgres_type("INTEGER[][]") == "jsonb"
    assert postgres_type("STRUCT(a INTEGER, b VARCHAR)") == "jsonb"
    assert postgres_type("UBIGINT") == "numeric(20,0)"


def test_tables_are_shared_as_their_model_declares() -> None:
    assert table_access("dim_regions", ["region_id"], "shared").kind == "shared"
    medicine = table_access("fct_medicine_facility_monthly", ["value"], "sector", "medicine")
    assert (medicine.kind, medicine.sector) == ("one_sector", "medicine")
    values = table_access("fct_indicator_values", ["indicator_id", "value"], "rows")
    assert (values.kind, values.column) == ("indicator_rows", "indicator_id")
    enterprises = table_access("dim_enterprises", ["sector", "ministry_id"], "rows")
    assert enterprises.kind == "ministry_rows"
    assert table_access("fct_source_quality", ["system_name"], "rows").kind == "system_rows"
    assert table_access("fct_something_new", ["value"], None).kind == "government_only"
    assert table_access("fct_something_new", ["value"], "government").kind == "government_only"
    with pytest.raises(ServingError, match="meta access is rows, but it has none of the columns"):
        table_access("fct_unkeyed", ["value"], "rows")
    with pytest.raises(ServingError, match="meta access is sector, but it names no meta sector"):
        table_access("fct_unowned", ["value"], "sector")
    with pytest.raises(ServingError, match="meta access 'public' is not one of internal, shared"):
        table_access("fct_open", ["value"], "public")


def test_every_published_model_declares_who_may_read_it() -> None:
    """Each model of the published schemas says its access in dbt_project.yml (or its own
    config); a sector's tables name their sector; intermediate models are internal."""
    manifest = json.loads(Path(manifest_path()).read_text(encoding="utf-8"))
    declared = {
        (node["config"]["schema"], node["name"]): node["config"].get("meta") or {}
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    problems = [
        f"{schema}.{name}: {meta}"
        for (schema, name), meta in sorted(declared.items())
        if (schema in ("marts", "indicators") and meta.get("access") not in DECLARED_ACCESS)
        or (meta.get("access") == "sector" and not meta.get("sector"))
        or (schema in ("staging", "intermediate") and meta.get("access") != "internal")
    ]
    assert problems == []
    sectors = {meta.get("sector") for (schema, _), meta in declared.items() if schema == "marts"}
    assert {"agriculture", "fuel_energy", "medicine", "textile", "edocument"} <= sectors


def test_columns_that_identify_a_person_are_recognised() -> None:
    for name in ("patient_id", "person_code", "date_of_birth", "passport_number", "full_name"):
        assert PERSONAL_COLUMN.search(name), name
    for name in ("births_head", "outpatient_visits", "inpatient_admissions", "beds"):
        assert not PERSONAL_COLUMN.search(name), name


def test_types_survive_the_copy_exactly(tmp_path: Path) -> None:
    small = small_snapshot(tmp_path / "warehouse.duckdb")
    with fresh_database() as database:
        publish_to_postgres(small, "small", database.dsn, database.role_prefix)
        with database.as_reader("health") as pg:
            row = pg.execute(
                "select date_day, loaded_at, local_at, tonnes, is_working_day, share,"
                " empty_text, no_text, awkward_text, words, numbers, detail, lag,"
                " open_start::text from marts.dim_dates"
            ).fetchone()
            types = pg.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'marts' and table_name = 'dim_dates' order by 1"
            ).fetchall()
    with duckdb.connect(str(small), read_only=True) as connection:
        original = connection.execute(
            "select date_day, loaded_at, local_at, tonnes, is_working_day, share, empty_text,"
            " no_text, awkward_text, words, numbers, detail, lag from marts.dim_dates"
        ).fetchone()
    assert row is not None
    assert original is not None
    assert row[:13] == original
    assert row[13] == "-infinity"
    assert dict(types) == {
        "awkward_text": "text",
        "date_day": "date",
        "detail": "jsonb",
        "empty_text": "text",
        "is_working_day": "boolean",
        "lag": "interval",
        "loaded_at": "timestamp with time zone",
        "local_at": "timestamp without time zone",
        "no_text": "text",
        "numbers": "ARRAY",
        "open_start": "date",
        "share": "double precision",
        "tonnes": "numeric",
        "words": "ARRAY",
    }


def test_a_table_of_personal_records_is_never_served(tmp_path: Path) -> None:
    small = small_snapshot(
        tmp_path / "warehouse.duckdb",
        "create table marts.fct_medicine_admissions as select 'p1' as patient_id, 1 as days;",
    )
    with fresh_database() as database:
        with pytest.raises(ServingError, match="patient_id"):
            publish_to_postgres(small, "personal", database.dsn, database.role_prefix)
        with database.admin() as pg:
            assert pg.execute("select to_regnamespace('marts')").fetchone() == (None,)
