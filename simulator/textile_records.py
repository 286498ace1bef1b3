"""The textile ministry's records (one dataclass a file's row) and its reference data: the
products with their export prices and shares, and the mills with their planned output a year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    product_code: str
    name_tk: str
    name_ru: str
    name_en: str
    unit: str
    price_tmt: float  # thousand manats per unit exported
    export_share: float


@dataclass(frozen=True)
class Mill:
    mill_code: str
    name_tk: str
    name_ru: str
    province_code: str
    district_code: str | None
    annual: tuple[tuple[str, float], ...]  # product code, planned output a year


@dataclass(frozen=True)
class MillOutput:
    report_month: str  # yyyy-mm, as the ministry's system writes it
    mill_code: str
    product_code: str
    planned_quantity: float
    produced_quantity: float
    exported_quantity: float
    export_value_tmt: float
    submitted_at: dt.datetime


@dataclass(frozen=True)
class ExportPlan:
    plan_month: str  # yyyy-mm
    mill_code: str
    export_value_plan_tmt: float
    approved_on: str  # yyyy-mm-dd


PRODUCTS = [
    Product("PGY", "Pagta ýüplügi", "Хлопковая пряжа", "Cotton yarn", "tonnes", 8.75, 0.6),
    Product(
        "PGM",
        "Pagta matasy",
        "Хлопчатобумажная ткань",
        "Cotton fabric",
        "thousand_m2",
        3.5,
        0.4,
    ),
    Product("JNS", "Jins matasy", "Джинсовая ткань", "Denim", "thousand_m2", 8.75, 0.5),
    Product(
        "TRK", "Trikotaž matasy", "Трикотажное полотно", "Knitted fabric", "tonnes", 14.0, 0.35
    ),
    Product("TKN", "Tikin önümleri", "Швейные изделия", "Garments", "thousand_pieces", 17.5, 0.3),
    Product("MHR", "Mahra önümleri", "Махровые изделия", "Terry products", "tonnes", 21.0, 0.7),
]
MILLS = [
    Mill(
        "TX-ASG",
        "Aşgabat dokma toplumy",
        "Ашхабадский текстильный комплекс",
        "TM-S",
        "TM-S-02",
        (("PGY", 9_000), ("PGM", 24_000), ("TKN", 6_000)),
    ),
    Mill(
        "TX-GSE",
        "Gurbansoltan Eje adyndaky dokma toplumy",
        "Текстильный комплекс имени Гурбансолтан эдже",
        "TM-S",
        "TM-S-01",
        (("JNS", 18_000), ("TKN", 7_500)),
    ),
    Mill(
        "TX-GKD",
        "Gökdepe dokma toplumy",
        "Гёкдепинский текстильный комплекс",
        "TM-A",
        "TM-A-05",
        (("PGY", 6_500), ("TRK", 3_500), ("TKN", 3_000)),
    ),
    Mill(
        "TX-KKA",
        "Kaka pagta egriji fabrigi",
        "Каахкинская прядильная фабрика",
        "TM-A",
        "TM-A-06",
        (("PGY", 4_000),),
    ),
    Mill(
        "TX-TJN",
        "Tejen dokma toplumy",
        "Тедженский текстильный комплекс",
        "TM-A",
        "TM-A-09",
        (("PGY", 7_000), ("PGM", 12_000)),
    ),
    Mill(
        "TX-MRY",
        "Mary pagta egriji fabrigi",
        "Марыйская прядильная фабрика",
        "TM-M",
        "TM-M-03",
        (("PGY", 12_000),),
    ),
    Mill(
        "TX-BYR",
        "Baýramaly dokma toplumy",
        "Байрамалийский текстильный комплекс",
        "TM-M",
        "TM-M-01",
        (("PGY", 8_000), ("PGM", 15_000), ("MHR", 2_500)),
    ),
    Mill(
        "TX-TRK",
        "Türkmenabat dokma toplumy",
        "Туркменабатский текстильный комплекс",
        "TM-L",
        None,
        (("PGY", 10_000), ("PGM", 20_000), ("TKN", 4_000)),
    ),
    Mill(
        "TX-HLC",
        "Halaç pagta egriji fabrigi",
        "Халачская прядильная фабрика",
        "TM-L",
        "TM-L-09",
        (("PGY", 5_000),),
    ),
    Mill(
        "TX-SYT",
        "Saýat pagta egriji fabrigi",
        "Саятская прядильная фабрика",
        "TM-L",
        "TM-L-14",
        (("PGY", 4_500),),
    ),
    Mill(
        "TX-DSG",
        "Daşoguz pagta egriji fabrigi",
        "Дашогузская прядильная фабрика",
        "TM-D",
        "TM-D-01",
        (("PGY", 9_000),),
    ),
    Mill(
        "TX-KNR",
        "Köneürgenç pagta egriji fabrigi",
        "Кёнеургенчская прядильная фабрика",
        "TM-D",
        "TM-D-02",
        (("PGY", 5_500),),
    ),
    Mill(
        "TX-SRD",
        "Serdar dokma toplumy",
        "Сердарский текстильный комплекс",
        "TM-B",
        "TM-B-05",
        (("PGY", 4_000), ("TRK", 2_000)),
    ),
]
