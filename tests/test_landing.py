import polars as pl
import pytest

from maglumat.settings import MaglumatPaths
from pipelines.landing import (
    LandingError,
    _write_once,
    land_batch,
    list_batches,
    read_batch,
)
from pipelines.landing import (
    high_water_mark as landed_high_water_mark,
)


def _land(paths: MaglumatPaths, frame: pl.DataFrame, cursor_to: str | None) -> str:
    manifest = land_batch(
        paths.landing,
        system="agriculture_campaign",
        table="daily_reports",
        mode="incremental",
        frame=frame,
        source="sqlite:///x.sqlite",
        cursor_column="submitted_at",
        cursor_to=cursor_to,
    )
    return manifest.batch_id


def test_a_batch_is_written_once_with_its_manifest(maglumat_home: MaglumatPaths) -> None:
    frame = pl.DataFrame({"report_id": [1, 2], "submitted_at": ["2023-06-02 04:00:00"] * 2})
    batch_id = _land(maglumat_home, frame, "2023-06-02 04:00:00")

    (manifest,) = list_batches(maglumat_home.landing, "agriculture_campaign", "daily_reports")
    assert manifest.batch_id == batch_id
    assert manifest.row_count == 2
    assert len(manifest.sha256) == 64
    parquet = manifest.parquet_path(maglumat_home.landing)
    assert parquet.parent.parent.name == "daily_reports"
    assert oct(parquet.stat().st_mode & 0o777) == "0o444"
    assert read_batch(maglumat_home.landing, manifest).equals(frame)


def test_a_tampered_batch_is_refused(maglumat_home: MaglumatPaths) -> None:
    _land(maglumat_home, pl.DataFrame({"report_id": [1]}), None)
    (manifest,) = list_batches(maglumat_home.landing)
    parquet = manifest.parquet_path(maglumat_home.landing)
    parquet.chmod(0o644)
    pl.DataFrame({"report_id": [666]}).write_parquet(parquet)
    with pytest.raises(LandingError, match="does not match its checksum"):
        read_batch(maglumat_home.landing, manifest)


def test_high_water_mark_is_read_back_from_committed_batches(maglumat_home: MaglumatPaths) -> None:
    assert (
        landed_high_water_mark(maglumat_home.landing, "agriculture_campaign", "daily_reports")
        is None
    )
    _land(maglumat_home, pl.DataFrame({"report_id": [1]}), "2023-06-02 04:00:00")
    _land(maglumat_home, pl.DataFrame({"report_id": [2]}), "2023-06-03 05:00:00")
    # Debris of an interrupted extract (a Parquet file with no manifest) does not count.
    folder = next(maglumat_home.landing.glob("agriculture_campaign/daily_reports/*"))
    pl.DataFrame({"report_id": [3]}).write_parquet(folder / "99999999T000000000000Z-dead00.parquet")
    mark = landed_high_water_mark(maglumat_home.landing, "agriculture_campaign", "daily_reports")
    assert mark == "2023-06-03 05:00:00"
    assert len(list_batches(maglumat_home.landing)) == 2


def test_nothing_is_ever_overwritten(maglumat_home: MaglumatPaths) -> None:
    _land(maglumat_home, pl.DataFrame({"report_id": [1]}), None)
    (manifest,) = list_batches(maglumat_home.landing)
    with pytest.raises(FileExistsError):
        _write_once(manifest.parquet_path(maglumat_home.landing), b"other bytes")
