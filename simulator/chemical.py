"""The chemical industry's monthly statistical form, simulated (``chemical_monthly_form``).

Every month the state concern Türkmenhimiýa consolidates its plants' form 1-Ö (output by
product: plan, actual, sold at home and exported, in tonnes) into one XLSX workbook and drops it
into the warehouse's inbox, laid out as the paper form: title rows with the period and the date
the form was compiled, a header over two rows with merged cells ("Önümçilik, tonna" over
"meýilnama" and "hakyky"), a row of column numbers, each plant's code and name merged down over
its products, a totals row and signatures. The plant register and the product classifier come
as workbooks of their own. Capacities follow the published ones: the carbamide (urea) plants of
Mary, Tejen and Garabogaz, the Türkmenabat chemical plant (superphosphate, sulphuric acid),
iodine and bromine from Hazar and Balkan, sodium sulphate from Garabogaz.

The mess of the real thing: the November 2022 form arrives six weeks late; the Balkan iodine
plant's rows are missing from the February 2023 form and never come; the May 2023 form is sent
again corrected (``_duzedis``) with a later compilation date; Garabogaz stops for maintenance in
October 2022 and Tejen in April 2023.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from simulator.inbox import Form, Header, InboxFile, deliver, inbox_of, xlsx_bytes

SYSTEM = "chemical_monthly_form"
UTC = dt.UTC
FIRST_MONTH = dt.date(2022, 1, 1)
LAST_MONTH = dt.date(2023, 12, 1)
REGISTERS_AT = dt.datetime(2022, 1, 10, 6, 0, tzinfo=UTC)
LATE_MONTH = dt.date(2022, 11, 1)
MISSING = ("HIM-BLK", dt.date(2023, 2, 1))
CORRECTED_MONTH = dt.date(2023, 5, 1)
STOPPED = {("HIM-GBG", dt.date(2022, 10, 1)): 0.15, ("HIM-TJN", dt.date(2023, 4, 1)): 0.4}
CONCERN = "«Türkmenhimiýa» döwlet konserni"
FORM_HEADER = (
    Header("T/b"),
    Header("Kärhananyň kody"),
    Header("Kärhananyň ady"),
    Header("Önümiň kody"),
    Header("Önümiň ady"),
    Header("Ölçeg birligi"),
    Header("Önümçilik, tonna", ("meýilnama", "hakyky")),
    Header("Ýerlenildi, tonna", ("içerki bazara", "eksporta")),
)


@dataclass(frozen=True)
class Product:
    product_code: str
    name_tk: str
    name_ru: str
    name_en: str
    export_share: float
    unit: str = "tonnes"


@dataclass(frozen=True)
class Plant:
    enterprise_code: str
    name_tk: str
    name_ru: str
    province_code: str
    district_code: str | None
    capacity: tuple[tuple[str, float], ...]  # product code, tonnes a year


@dataclass(frozen=True)
class OutputLine:
    report_month: dt.date
    enterprise_code: str
    product_code: str
    plan_tonnes: float
    actual_tonnes: float
    sold_domestic_tonnes: float
    exported_tonnes: float
    compiled_on: dt.date
    file_name: str


@dataclass(frozen=True)
class ChemicalSystem:
    plants: list[Plant]
    products: list[Product]
    lines: list[OutputLine]
    files: list[InboxFile]

    def delivered(self, as_of: dt.datetime) -> set[str]:
        return {f.name for f in self.files if f.arrives_at <= as_of}


PRODUCTS = [
    Product("KRB", "Karbamid", "Карбамид", "Urea (carbamide)", 0.7),
    Product("AMM", "Suwuk ammiak", "Жидкий аммиак", "Liquid ammonia", 0.2),
    Product("AMS", "Ammiak selitrasy", "Аммиачная селитра", "Ammonium nitrate", 0.1),
    Product("SPF", "Superfosfat", "Суперфосфат", "Superphosphate", 0.0),
    Product("SLK", "Kükürt kislotasy", "Серная кислота", "Sulphuric acid", 0.05),
    Product("YOD", "Ýod", "Йод", "Iodine", 0.95),
    Product("BRM", "Tehniki brom", "Технический бром", "Technical bromine", 0.5),
    Product("NSF", "Natriý sulfaty", "Сульфат натрия", "Sodium sulphate", 0.3),
]
PLANTS = [
    Plant(
        "HIM-MRY",
        "Mary azot dökünleri zawody",
        "Марыйский завод азотных удобрений",
        "TM-M",
        "TM-M-03",
        (("KRB", 640_000), ("AMM", 45_000), ("AMS", 150_000)),
    ),
    Plant(
        "HIM-TJN",
        "Tejen karbamid zawody",
        "Тедженский карбамидный завод",
        "TM-A",
        "TM-A-09",
        (("KRB", 350_000), ("AMM", 20_000)),
    ),
    Plant(
        "HIM-GBG",
        "Garabogaz karbamid zawody",
        "Гарабогазский карбамидный завод",
        "TM-B",
        "TM-B-06",
        (("KRB", 1_155_000), ("AMM", 30_000)),
    ),
    Plant(
        "HIM-TRK",
        "Türkmenabat himiýa zawody",
        "Туркменабатский химический завод",
        "TM-L",
        None,
        (("SPF", 150_000), ("SLK", 220_000)),
    ),
    Plant(
        "HIM-HZR",
        "Hazar himiýa zawody",
        "Хазарский химический завод",
        "TM-B",
        "TM-B-06",
        (("YOD", 250), ("BRM", 90)),
    ),
    Plant("HIM-BLK", "Balkan ýod zawody", "Балканский йодный завод", "TM-B", None, (("YOD", 300),)),
    Plant("HIM-GBS", "Garabogazsulfat", "Гарабогазсульфат", "TM-B", "TM-B-06", (("NSF", 80_000),)),
]


def months(first: dt.date = FIRST_MONTH, last: dt.date = LAST_MONTH) -> list[dt.date]:
    result, month = [], first
    while month <= last:
        result.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return result


def _round(value: float, annual: float) -> float:
    """Big products in whole tonnes (plans in hundreds), iodine and bromine to a kilogram."""
    return round(value, 1) if annual >= 12_000 else round(value, 3)


def form_name(month: dt.date, corrected: bool = False) -> str:
    return f"1-himiya_{month:%Y-%m}{'_duzedis' if corrected else ''}.xlsx"


def _lines(rng: random.Random) -> list[OutputLine]:
    share = {product.product_code: product.export_share for product in PRODUCTS}
    lines: list[OutputLine] = []
    for month in months():
        following = (month + dt.timedelta(days=32)).replace(day=1)
        compiled = following + dt.timedelta(days=rng.randint(2, 5))
        if month == LATE_MONTH:
            compiled = dt.date(2023, 1, 13)
        for plant in PLANTS:
            if (plant.enterprise_code, month) == MISSING:
                continue
            utilisation = STOPPED.get((plant.enterprise_code, month))
            for product, annual in plant.capacity:
                plan = annual / 12 * 0.92
                actual = annual / 12 * (utilisation or rng.uniform(0.82, 1.02))
                sold = actual * rng.uniform(0.9, 1.05)
                exported = sold * share[product]
                lines.append(
                    OutputLine(
                        report_month=month,
                        enterprise_code=plant.enterprise_code,
                        product_code=product,
                        plan_tonnes=round(plan, -2) if annual >= 12_000 else round(plan, 1),
                        actual_tonnes=_round(actual, annual),
                        sold_domestic_tonnes=_round(sold - exported, annual),
                        exported_tonnes=_round(exported, annual),
                        compiled_on=compiled,
                        file_name=form_name(month),
                    )
                )
    corrected = dt.date(2023, 6, 19)
    for line in [line for line in lines if line.report_month == CORRECTED_MONTH]:
        fixed = line.enterprise_code == "HIM-TRK" and line.product_code == "SPF"
        lines.append(
            replace(
                line,
                actual_tonnes=round(line.actual_tonnes * 0.9, 1) if fixed else line.actual_tonnes,
                compiled_on=corrected,
                file_name=form_name(CORRECTED_MONTH, corrected=True),
            )
        )
    return lines


def _form(lines: Sequence[OutputLine]) -> bytes:
    plants = {plant.enterprise_code: plant for plant in PLANTS}
    products = {product.product_code: product for product in PRODUCTS}
    month, compiled = lines[0].report_month, lines[0].compiled_on
    rows = [
        (
            number,
            line.enterprise_code,
            plants[line.enterprise_code].name_tk,
            line.product_code,
            products[line.product_code].name_tk,
            "tonna",
            float(line.plan_tonnes),
            float(line.actual_tonnes),
            float(line.sold_domestic_tonnes),
            float(line.exported_tonnes),
        )
        for number, line in enumerate(lines, start=1)
    ]
    return xlsx_bytes(
        [
            Form(
                sheet="1-Ö himiýa",
                title=(
                    CONCERN,
                    "Himiýa önümleriniň önümçiligi we ýerlenilişi barada aýlyk hasabat "
                    "(1-Ö görnüşi)",
                    f"Hasabat döwri: {month:%Y-%m}",
                    f"Düzülen senesi: {compiled:%d.%m.%Y}",
                    "",
                ),
                header=FORM_HEADER,
                rows=rows,
                column_numbers=True,
                merge_down=(1, 2),
                totals=(6, 7, 8, 9),
                footer=("Baş inžener: ____________", "Baş hasapçy: ____________"),
                widths=(5, 12, 32, 10, 22, 10, 12, 12, 12, 12),
            )
        ]
    )


def _plants_workbook() -> bytes:
    return xlsx_bytes(
        [
            Form(
                sheet="Kärhanalar",
                title=(f"{CONCERN}: kärhanalar", ""),
                header=tuple(
                    Header(label)
                    for label in (
                        "Kärhananyň kody",
                        "Ady (türkmençe)",
                        "Ady (rusça)",
                        "Welaýat",
                        "Etrap",
                    )
                ),
                rows=[
                    (p.enterprise_code, p.name_tk, p.name_ru, p.province_code, p.district_code)
                    for p in PLANTS
                ],
            )
        ]
    )


def _products_workbook() -> bytes:
    return xlsx_bytes(
        [
            Form(
                sheet="Önümler",
                title=(f"{CONCERN}: önümleriň klassifikatory", ""),
                header=tuple(
                    Header(label)
                    for label in (
                        "Önümiň kody",
                        "Ady (türkmençe)",
                        "Ady (rusça)",
                        "Ady (iňlisçe)",
                        "Ölçeg birligi",
                    )
                ),
                rows=[(p.product_code, p.name_tk, p.name_ru, p.name_en, p.unit) for p in PRODUCTS],
            )
        ]
    )


def _files(lines: list[OutputLine]) -> list[InboxFile]:
    files = [
        InboxFile("himiya_karhanalar.xlsx", "enterprises", REGISTERS_AT, _plants_workbook),
        InboxFile("himiya_onumler.xlsx", "products", REGISTERS_AT, _products_workbook),
    ]
    by_file: dict[str, list[OutputLine]] = {}
    for line in lines:
        by_file.setdefault(line.file_name, []).append(line)
    for name, form_lines in sorted(by_file.items()):
        compiled = form_lines[0].compiled_on
        arrives = dt.datetime.combine(compiled, dt.time(6, 0), tzinfo=UTC)
        arrives += dt.timedelta(minutes=17 * len(form_lines) % 180)
        files.append(
            InboxFile(
                name, "monthly_output", arrives, lambda form_lines=form_lines: _form(form_lines)
            )
        )
    return files


def generate(seed: int = DEFAULT_SEED) -> ChemicalSystem:
    """Every form line and file the concern sends over the simulated period."""
    rng = random.Random(seed)
    lines = _lines(rng)
    return ChemicalSystem(
        plants=list(PLANTS), products=list(PRODUCTS), lines=lines, files=_files(lines)
    )


def simulate(
    paths: MaglumatPaths, as_of: dt.datetime = DEFAULT_AS_OF, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Bring the demo inbox to ``as_of``: the workbooks sent since the last call, per table."""
    return deliver(inbox_of(paths.systems, SYSTEM), generate(seed).files, as_of)
