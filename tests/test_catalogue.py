from pathlib import Path

import pytest

from pipelines.catalogue import CatalogueError, check_catalogue, load_catalogue


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
        {table_key}
"""


def _catalogue(tmp_path: Path, **parts: str) -> Path:
    values = {"kind": "sql", "delivery": "", "system_key": "", "mode": "full", "table_key": ""}
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
    ],
)  # fmt: skip
def test_a_misspelt_or_unknown_setting_fails_when_the_catalogue_loads(
    tmp_path: Path, parts: dict[str, str], message: str
) -> None:
    """Every key at every level is checked when the definitions load (and so in `make test`
    and `dagster definitions validate`), not when the nightly run first reads the system."""
    with pytest.raises(CatalogueError) as refused:
        check_catalogue(load_catalogue(_catalogue(tmp_path, **parts)))
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
    (system,) = check_catalogue(load_catalogue(inbox))
    assert system.options == {"processed_dir": "done", "rejected_dir": "refused"}
