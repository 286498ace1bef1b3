from pathlib import Path

import pytest

from pipelines.catalogue import CatalogueError, load_catalogue


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
