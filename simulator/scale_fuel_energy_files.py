"""The fuel and energy dispatch's CSV files at scale, as the new system writes them: the
register and classifier, the monthly archive files and the daily files (with a BOM when saved
through Excel), and the plan files; each rendered only when delivered.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

import polars as pl

from simulator.fuel_energy_files import NEW_HEADER, PLAN_HEADER, PRODUCT_HEADER
from simulator.inbox import InboxFile
from simulator.scale_fuel_energy_figures import CONNECTED_AT, LOCAL_OFFSET
from simulator.scale_fuel_energy_register import ENTERPRISE_COLUMNS

if TYPE_CHECKING:
    from simulator.scale_fuel_energy import ScaledFuelEnergy

DAILY_COLUMNS = dict(
    zip(
        ("report_date", "enterprise_code", "product_code", "quantity", "transmitted_at"),
        NEW_HEADER,
        strict=True,
    )
)
PLAN_COLUMNS = dict(
    zip(
        (
            "plan_year",
            "plan_month",
            "enterprise_code",
            "product_code",
            "planned_quantity",
            "version",
            "approved_on",
        ),
        PLAN_HEADER,
        strict=True,
    )
)
PRODUCT_COLUMNS = dict(
    zip(("product_code", "name_tk", "name_ru", "name_en", "unit"), PRODUCT_HEADER, strict=True)
)


def _csv(frame: pl.DataFrame, bom: bool = False, decimals: int | None = None) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_bom=bom, line_terminator="\n", float_precision=decimals)
    return buffer.getvalue()


def _daily_file(rows: pl.DataFrame, bom: bool) -> bytes:
    local = pl.col("transmitted_at") + pl.lit(LOCAL_OFFSET)
    return _csv(
        rows.sort("report_date", "transmitted_at", "enterprise_code", "product_code")
        .select(
            pl.col("report_date").dt.strftime("%Y-%m-%d"),
            "enterprise_code",
            "product_code",
            "quantity",
            (local.dt.strftime("%Y-%m-%d %H:%M:%S") + "+05:00").alias("transmitted_at"),
        )
        .rename(DAILY_COLUMNS),
        bom=bom,
        decimals=1,
    )


def _plan_file(rows: pl.DataFrame) -> bytes:
    return _csv(
        rows.select(
            "plan_year",
            "plan_month",
            "enterprise_code",
            "product_code",
            pl.col("planned_quantity").round(0).cast(pl.Int64),
            "version",
            pl.col("approved_on").dt.strftime("%Y-%m-%d"),
        ).rename(PLAN_COLUMNS)
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC)


def inbox_files(system: ScaledFuelEnergy) -> list[InboxFile]:
    """Every file the dispatch centre sends, with its arrival; rendered only when delivered."""
    register = system.enterprises.rename(ENTERPRISE_COLUMNS)
    products = system.products.rename(PRODUCT_COLUMNS)
    files = [
        InboxFile(
            "fek_karhanalar.csv",
            "enterprises",
            _utc(CONNECTED_AT) - dt.timedelta(minutes=30),
            lambda: _csv(register),
        ),
        InboxFile(
            "fek_onumler.csv",
            "products",
            _utc(CONNECTED_AT) - dt.timedelta(minutes=29),
            lambda: _csv(products),
        ),
    ]
    daily = system.daily_production.partition_by("file_name", as_dict=True, maintain_order=True)
    for (name,), rows in daily.items():
        # The archive and the files sent again were saved through Excel: with a BOM.
        bom = str(name).startswith("fek_arhiw_") or str(name).endswith("_duzedis.csv")
        files.append(
            InboxFile(
                str(name),
                "daily_production",
                _utc(rows["arrives_at"].max()),
                lambda rows=rows, bom=bom: _daily_file(rows, bom),
            )
        )
    plans = system.monthly_plans.partition_by("file_name", as_dict=True, maintain_order=True)
    for (name,), rows in plans.items():
        files.append(
            InboxFile(
                str(name),
                "monthly_plans",
                _utc(rows["arrives_at"].max()),
                lambda rows=rows: _plan_file(rows),
            )
        )
    return files
