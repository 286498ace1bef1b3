"""The textile industry's monthly mill output, simulated (``textile_mill_output``).

Every month the Ministry of Textile Industry's system exports its mills' output (cotton yarn,
cotton and denim fabric, knitted fabric, garments, terry products: plan, produced, exported and
export value in thousand manats) as one CSV file into the warehouse's inbox, with the mill
register and the product classifier as CSV files of their own. The same records can be written
to a database (SQLite, PostgreSQL or MariaDB), where the ``sql`` kind reads them; the tests do
that with MariaDB.

Each December the ministry approves the next year's export plan (thousand manats, by mill and
month), sent as a CSV file of its own.

The mess of the real thing: Kaka spinning mill's June 2022 rows never come; the March 2023 file
arrives three weeks late; the June 2023 output of the Aşgabat complex is corrected in a second
file holding only the corrected rows (``_v2``, saved through Excel, so with a BOM).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields, replace

from maglumat.clock import LOCAL_TIMEZONE
from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from simulator.chemical import months
from simulator.inbox import InboxFile, csv_bytes, deliver, inbox_of
from simulator.textile_database import insert_new_rows
from simulator.textile_records import MILLS, PRODUCTS, ExportPlan, Mill, MillOutput, Product

SYSTEM = "textile_mill_output"
UTC = dt.UTC
ASHGABAT = LOCAL_TIMEZONE
REGISTERS_AT = dt.datetime(2022, 1, 15, 5, 0, tzinfo=UTC)
MISSING = ("TX-KKA", dt.date(2022, 6, 1))
LATE_MONTH = dt.date(2023, 3, 1)
CORRECTED = ("TX-ASG", dt.date(2023, 6, 1))


@dataclass(frozen=True)
class TextileSystem:
    mills: list[Mill]
    products: list[Product]
    output: list[MillOutput]
    output_files: dict[str, list[MillOutput]]  # file name -> its rows
    files: list[InboxFile]
    export_plans: list[ExportPlan]

    def delivered(self, as_of: dt.datetime) -> set[str]:
        return {f.name for f in self.files if f.arrives_at <= as_of}

    def visible_output(self, as_of: dt.datetime) -> list[MillOutput]:
        """Rows of the files delivered by ``as_of`` (what the ministry's database holds)."""
        names = self.delivered(as_of)
        return [row for name, rows in self.output_files.items() if name in names for row in rows]


OUTPUT_HEADER = tuple(field.name for field in fields(MillOutput))
EXPORT_PLAN_HEADER = tuple(field.name for field in fields(ExportPlan))
# Plans ask a little more than the mills' planned output would export at list prices.
EXPORT_PLAN_UPLIFT = 1.05
MILL_HEADER = ("mill_code", "name_tk", "name_ru", "province_code", "district_code")
PRODUCT_HEADER = ("product_code", "name_tk", "name_ru", "name_en", "unit")


def _file_name(month: dt.date, corrected: bool = False) -> str:
    return f"dokma_{month:%Y-%m}{'_v2' if corrected else ''}.csv"


def _output(rng: random.Random) -> dict[str, list[MillOutput]]:
    products = {product.product_code: product for product in PRODUCTS}
    files: dict[str, list[MillOutput]] = {}
    for month in months():
        following = (month + dt.timedelta(days=32)).replace(day=1)
        day = following + dt.timedelta(days=rng.randint(5, 8))
        if month == LATE_MONTH:
            day = dt.date(2023, 4, 28)
        rows = []
        for mill in MILLS:
            if (mill.mill_code, month) == MISSING:
                continue
            submitted = dt.datetime.combine(day, dt.time(9, 0), tzinfo=ASHGABAT)
            submitted += dt.timedelta(minutes=rng.randint(0, 420))
            for code, annual in mill.annual:
                product = products[code]
                planned = round(annual / 12, -1)
                produced = round(planned * rng.uniform(0.88, 1.08), 1)
                exported = round(produced * product.export_share * rng.uniform(0.8, 1.2), 1)
                value = round(exported * product.price_tmt * rng.uniform(0.95, 1.05), 1)
                rows.append(
                    MillOutput(
                        report_month=f"{month:%Y-%m}",
                        mill_code=mill.mill_code,
                        product_code=code,
                        planned_quantity=planned,
                        produced_quantity=produced,
                        exported_quantity=exported,
                        export_value_tmt=value,
                        submitted_at=submitted.astimezone(UTC),
                    )
                )
        files[_file_name(month)] = rows
    mill, month = CORRECTED
    corrected_at = dt.datetime(2023, 7, 24, 6, 30, tzinfo=UTC)
    files[_file_name(month, corrected=True)] = [
        replace(
            row,
            produced_quantity=round(row.produced_quantity * 0.95, 1),
            submitted_at=corrected_at,
        )
        for row in files[_file_name(month)]
        if row.mill_code == mill
    ]
    return files


def _export_plans() -> dict[int, list[ExportPlan]]:
    """The export plan of each simulated year, approved the December before (none for mills'
    products without exports)."""
    products = {product.product_code: product for product in PRODUCTS}
    plans: dict[int, list[ExportPlan]] = {}
    for month in months():
        approved = dt.date(month.year - 1, 12, 26)
        for mill in MILLS:
            value = sum(
                round(annual / 12, -1) * products[code].export_share * products[code].price_tmt
                for code, annual in mill.annual
            )
            plans.setdefault(month.year, []).append(
                ExportPlan(
                    plan_month=f"{month:%Y-%m}",
                    mill_code=mill.mill_code,
                    export_value_plan_tmt=round(value * EXPORT_PLAN_UPLIFT, -1),
                    approved_on=approved.isoformat(),
                )
            )
    return plans


def _export_plan_file(year: int, plans: Sequence[ExportPlan]) -> InboxFile:
    approved = dt.date.fromisoformat(plans[0].approved_on)
    # The first simulated year's plan reaches the warehouse with the registers.
    arrives = max(
        dt.datetime.combine(approved, dt.time(10, 0), tzinfo=ASHGABAT).astimezone(UTC),
        REGISTERS_AT,
    )
    return InboxFile(
        f"dokma_eksport_meyilnamasy_{year}.csv",
        "export_plans",
        arrives,
        lambda: csv_bytes(
            EXPORT_PLAN_HEADER,
            (
                (p.plan_month, p.mill_code, f"{p.export_value_plan_tmt:.1f}", p.approved_on)
                for p in plans
            ),
            line_end="\n",
        ),
    )


def _output_csv(rows: Sequence[MillOutput], bom: bool) -> bytes:
    return csv_bytes(
        OUTPUT_HEADER,
        (
            (
                row.report_month,
                row.mill_code,
                row.product_code,
                f"{row.planned_quantity:.1f}",
                f"{row.produced_quantity:.1f}",
                f"{row.exported_quantity:.1f}",
                f"{row.export_value_tmt:.1f}",
                row.submitted_at.astimezone(ASHGABAT).isoformat(sep=" "),
            )
            for row in rows
        ),
        bom=bom,
        line_end="\n",
    )


def _files(
    output_files: dict[str, list[MillOutput]], export_plans: dict[int, list[ExportPlan]]
) -> list[InboxFile]:
    files = [
        InboxFile(
            "dokma_fabrikler.csv",
            "mills",
            REGISTERS_AT,
            lambda: csv_bytes(
                MILL_HEADER,
                (
                    (m.mill_code, m.name_tk, m.name_ru, m.province_code, m.district_code)
                    for m in MILLS
                ),
                line_end="\n",
            ),
        ),
        InboxFile(
            "dokma_onumler.csv",
            "products",
            REGISTERS_AT,
            lambda: csv_bytes(
                PRODUCT_HEADER,
                ((p.product_code, p.name_tk, p.name_ru, p.name_en, p.unit) for p in PRODUCTS),
                line_end="\n",
            ),
        ),
    ]
    files.extend(_export_plan_file(year, plans) for year, plans in sorted(export_plans.items()))
    for name, rows in sorted(output_files.items()):
        arrives = max(row.submitted_at for row in rows) + dt.timedelta(minutes=10)
        corrected = name.endswith("_v2.csv")
        files.append(
            InboxFile(
                name,
                "mill_output",
                arrives,
                lambda rows=rows, corrected=corrected: _output_csv(rows, bom=corrected),
            )
        )
    return files


def generate(seed: int = DEFAULT_SEED) -> TextileSystem:
    """Every record and file the ministry's system sends over the simulated period."""
    rng = random.Random(seed)
    output_files = _output(rng)
    export_plans = _export_plans()
    return TextileSystem(
        mills=list(MILLS),
        products=list(PRODUCTS),
        output=[row for rows in output_files.values() for row in rows],
        output_files=output_files,
        files=_files(output_files, export_plans),
        export_plans=[plan for plans in export_plans.values() for plan in plans],
    )


def simulate(
    paths: MaglumatPaths, as_of: dt.datetime = DEFAULT_AS_OF, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Bring the demo inbox to ``as_of``: the files sent since the last call, per table."""
    return deliver(inbox_of(paths.systems, SYSTEM), generate(seed).files, as_of)


def write_database(dsn: str, system: TextileSystem, as_of: dt.datetime) -> dict[str, int]:
    """Bring the database at ``dsn`` to the ministry's state at ``as_of``; rows added per table.

    Timestamps are stored as UTC without a zone, as the ministry's database keeps them. Rows
    already present (by key) are left alone, so a later ``as_of`` adds only what is new.
    """
    records: dict[str, Iterable[tuple]] = {
        "mill_output": [
            (*astuple(row)[:-1], row.submitted_at.astimezone(UTC).replace(tzinfo=None))
            for row in system.visible_output(as_of)
        ],
        "mills": [
            (m.mill_code, m.name_tk, m.name_ru, m.province_code, m.district_code)
            for m in system.mills
        ],
        "products": [
            (p.product_code, p.name_tk, p.name_ru, p.name_en, p.unit) for p in system.products
        ],
        "export_plans": [
            astuple(plan)
            for plan in system.export_plans
            if dt.datetime.fromisoformat(plan.approved_on).replace(tzinfo=ASHGABAT) <= as_of
        ],
    }
    return insert_new_rows(dsn, records)
