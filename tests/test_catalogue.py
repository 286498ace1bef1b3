import re
from pathlib import Path

import pytest

from maglumat.catalogue import CatalogueError, load_catalogue
from pipelines.catalogue import check_catalogue


def test_agriculture_system_is_declared_with_its_tables() -> None:
    systems = {system.name: system for system in load_catalogue()}
    campaign = systems["agriculture_campaign"]
    assert campaign.kind == "sql"
    assert campaign.connection_env == "MAGLUMAT_AGRICULTURE_CAMPAIGN_DSN"
    reports = campaign.table("daily_reports")
    assert reports.mode == "incremental"
    assert reports.cursor == "submitted_at"
    assert reports.business_key == ("district_code", "crop", "operation", "report_date")
    assert campaign.table("farms").mode == "full"


def test_connection_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    campaign = next(s for s in load_catalogue() if s.name == "agriculture_campaign")
    monkeypatch.setenv("MAGLUMAT_AGRICULTURE_CAMPAIGN_DSN", "postgresql://reader@db:5432/agri")
    assert campaign.connection() == "postgresql://reader@db:5432/agri"


def test_a_malformed_entry_names_its_file_and_table(tmp_path: Path) -> None:
    sector = tmp_path / "transport"
    sector.mkdir()
    (sector / "sources.yml").write_text(
        "systems:\n"
        "  - name: freight\n"
        "    sector: transport\n"
        "    kind: sql\n"
        "    connection: {env: FREIGHT_DSN}\n"
        "    tables:\n"
        "      - name: shipments\n"
        "        business_key: [shipment_id]\n"
        "        columns: {shipment_id: integer}\n"
        "        mode: incremental\n",
        encoding="utf-8",
    )
    with pytest.raises(
        CatalogueError, match=r"transport/sources.yml, system freight, table shipments"
    ):
        load_catalogue(tmp_path)


def test_identifiers_that_could_inject_sql_are_refused(tmp_path: Path) -> None:
    sector = tmp_path / "energy"
    sector.mkdir()
    (sector / "sources.yml").write_text(
        "systems:\n"
        "  - name: power\n"
        "    sector: energy\n"
        "    kind: sql\n"
        "    connection: {env: POWER_DSN}\n"
        "    tables:\n"
        "      - name: 'output; drop table x'\n"
        "        business_key: [plant_id]\n"
        "        columns: {plant_id: integer}\n"
        "        mode: full\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match="not a lowercase SQL identifier"):
        load_catalogue(tmp_path)


_SYSTEM = """systems:
  - name: freight
    sector: transport
    kind: {kind}
    connection: {{env: FREIGHT_DSN}}
    delivery: {{every: day, expected_by: "10:00"{delivery}}}
    {system_key}
    tables:
      - name: shipments
        business_key: [shipment_id]
        mode: {mode}
        columns: {{shipment_id: integer, {columns}}}
        {table_key}
"""


def _catalogue(tmp_path: Path, **parts: str) -> Path:
    values = {
        "kind": "sql",
        "delivery": "",
        "system_key": "",
        "mode": "full",
        "table_key": "",
        "columns": "shipped_on: date",
    }
    (tmp_path / "transport").mkdir()
    (tmp_path / "transport" / "sources.yml").write_text(
        _SYSTEM.format(**{**values, **parts}), encoding="utf-8"
    )
    return tmp_path


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"table_key": "buisness_key: [shipment_id]"},
         "system freight: tables[0].buisness_key: not a key of the catalogue (a misspelling?)"),
        ({"system_key": "sectr: transport"}, "system freight: sectr: not a key of the catalogue"),
        ({"delivery": ", grace_hour: 2"}, "system freight: delivery.grace_hour: not a key"),
        ({"delivery": ', expected_by: "25:00"'},
         "delivery.expected_by: '25:00' is not a local time HH:MM"),
        ({"delivery": ", expected_by: 10:30"}, "delivery.expected_by: write the local time"),
        ({"kind": "ftp"}, "system freight: kind: no extractor for kind 'ftp'"),
        ({"table_key": "options: {late_comit_seconds: 60}"},
         "system freight, table shipments: unknown options ['late_comit_seconds']"),
        ({"kind": "file_inbox", "mode": "append", "table_key": "options: {patern: 'a*.csv'}"},
         "table shipments: file_inbox options: unknown options ['patern'] (a misspelling?)"),
        ({"kind": "http_api", "mode": "full", "table_key": "options: {page_sise: 10}"},
         "unknown options ['page_sise'] (a misspelling?); the http_api kind reads"),
        ({"kind": "event_log", "mode": "append", "table_key": "options: {field: [a]}"},
         "table shipments: unknown options ['field'] (a misspelling?); the event_log kind"),
        ({"columns": "shipped_on: dat"},
         "tables[0].columns.shipped_on: 'dat' is not a column type; write one of integer,"),
        ({"columns": "shipped_on: date", "table_key": "cursor: shipped_at"},
         "table shipments: cursor 'shipped_at' is not among its columns"),
        ({"columns": "Shipped On: date"}, "column 'Shipped On' is not a lowercase SQL"),
    ],
)  # fmt: skip
def test_a_misspelt_or_unknown_setting_fails_when_the_catalogue_loads(
    tmp_path: Path, parts: dict[str, str], message: str
) -> None:
    """Every key at every level is checked when the definitions load (and so in `make test`
    and `dagster definitions validate`), not when the nightly run first reads the system."""
    with pytest.raises(CatalogueError) as refused:
        check_catalogue(load_catalogue(_catalogue(tmp_path, **parts)), tmp_path / "suites")
    assert str(refused.value).startswith(str(tmp_path / "transport" / "sources.yml"))
    assert message in str(refused.value)


def test_every_option_the_extractors_read_is_accepted(tmp_path: Path) -> None:
    """The checks refuse what an extractor does not read, and nothing it does: the real
    catalogue, and an inbox's system options for where its files go."""
    check_catalogue(load_catalogue())
    inbox = _catalogue(
        tmp_path,
        kind="file_inbox",
        mode="append",
        system_key="options: {processed_dir: done, rejected_dir: refused}",
        table_key="options: {pattern: 'freight_*.csv'}",
    )
    (system,) = check_catalogue(load_catalogue(inbox), tmp_path / "suites")
    assert system.options == {"processed_dir": "done", "rejected_dir": "refused"}


def test_a_business_key_outside_the_declared_columns_is_refused(tmp_path: Path) -> None:
    catalogue = _catalogue(tmp_path, columns="shipped_on: date")
    text = (catalogue / "transport" / "sources.yml").read_text(encoding="utf-8")
    (catalogue / "transport" / "sources.yml").write_text(
        text.replace("business_key: [shipment_id]", "business_key: [shipment_no]")
    )
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(catalogue)
    assert str(refused.value) == (
        f"{catalogue / 'transport' / 'sources.yml'}, system freight, table shipments:"
        " business_key 'shipment_no' is not among its columns"
    )


@pytest.mark.parametrize(
    ("suite_file", "suite", "message"),
    [
        ("fraight.yml", "tables: {}\n", "fraight.yml: no system 'fraight' in the catalogue"),
        ("freight.yml", "tables:\n  shipment: {}\n",
         "freight.yml: table 'shipment' is not a table of freight (shipments)"),
        ("freight.yml",
         "tables:\n  shipments:\n    outliers:\n      - {column: weight_kg, group_by: []}\n",
         "table shipments: outliers.column names 'weight_kg', which is not among the columns"),
    ],
)  # fmt: skip
def test_a_suite_that_speaks_of_what_the_catalogue_does_not_declare_is_refused(
    tmp_path: Path, suite_file: str, suite: str, message: str
) -> None:
    """A misnamed suite would otherwise gate nothing: it fails where the definitions load."""
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / suite_file).write_text(suite, encoding="utf-8")
    with pytest.raises(CatalogueError, match=re.escape(message)):
        check_catalogue(load_catalogue(_catalogue(tmp_path)), suites)
