"""A model that moved schema or was removed leaves no table behind for the snapshot to carry."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.leftovers import drop_leftover_relations


def _node(schema: str, name: str, resource_type: str = "model") -> dict[str, str]:
    return {"schema": schema, "name": name, "resource_type": resource_type}


def test_relations_dbt_no_longer_builds_are_dropped_and_nothing_else(tmp_path: Path) -> None:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    connection.execute(
        """
        create schema marts; create schema indicators; create schema intermediate;
        create schema raw; create schema reference;
        create table marts.fct_kept as select 1 as value;
        create table indicators.int_indicator_values_textile as select 1 as value;
        create view indicators.int_old_step as select * from marts.fct_kept;
        create table intermediate.int_indicator_values_textile as select 1 as value;
        create table reference.ref_districts as select 'TM-A-01' as district_code;
        create table raw.textile_mill_output__mills as select 1 as value;
        """
    )
    manifest = {
        "nodes": {
            "model.a": _node("marts", "fct_kept"),
            "model.b": _node("intermediate", "int_indicator_values_textile"),
            "model.c": _node("indicators", "fct_indicator_values"),
            "seed.d": _node("reference", "ref_districts", "seed"),
            "test.e": _node("marts", "not_null_fct_kept_value", "test"),
        }
    }
    dropped = drop_leftover_relations(connection, manifest)
    assert dropped == ["indicators.int_indicator_values_textile", "indicators.int_old_step"]
    remaining = connection.execute(
        "select schema_name || '.' || table_name from duckdb_tables() order by 1"
    ).fetchall()
    assert [name for (name,) in remaining] == [
        "intermediate.int_indicator_values_textile",
        "marts.fct_kept",
        "raw.textile_mill_output__mills",
        "reference.ref_districts",
    ]
    assert drop_leftover_relations(connection, manifest) == []  # the next build finds none
    connection.close()
