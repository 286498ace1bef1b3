"""The fuel and energy dispatch's records (one dataclass a file's row) and its reference data:
the products, and the enterprises (gas and oil fields, power stations) with their output a year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

FIRST_DAY = dt.date(2022, 1, 1)  # the period the dispatch's figures cover
LAST_DAY = dt.date(2023, 12, 31)
GAS, OIL, CONDENSATE, POWER = "GAZ", "NBT", "KND", "ELK"


@dataclass(frozen=True)
class Product:
    product_code: str
    name_tk: str
    name_ru: str
    name_en: str
    unit: str


@dataclass(frozen=True)
class Enterprise:
    enterprise_code: str
    name_tk: str
    name_ru: str
    organisation: str
    enterprise_type: str
    province_code: str
    district_code: str | None
    annual: tuple[tuple[str, float], ...]  # product code, quantity a year (2022)


@dataclass(frozen=True)
class DailyRecord:
    report_date: dt.date
    enterprise_code: str
    product_code: str
    quantity: float
    transmitted_at: dt.datetime
    file_name: str


@dataclass(frozen=True)
class PlanRecord:
    plan_year: int
    plan_month: int
    enterprise_code: str
    product_code: str
    planned_quantity: float
    version: int
    approved_on: dt.date
    file_name: str


PRODUCTS = [
    Product(GAS, "Tebigy gaz", "Природный газ", "Natural gas", "thousand_m3"),
    Product(OIL, "Çig nebit", "Сырая нефть", "Crude oil", "tonnes"),
    Product(CONDENSATE, "Gaz kondensaty", "Газовый конденсат", "Gas condensate", "tonnes"),
    Product(POWER, "Elektrik energiýasy", "Электроэнергия", "Electricity", "mwh"),
]


def _gas_field(
    code: str, tk: str, ru: str, where: tuple[str, str | None], gas: float, condensate: float
) -> Enterprise:
    annual = ((GAS, gas), (CONDENSATE, condensate)) if condensate else ((GAS, gas),)
    return Enterprise(
        code,
        f"{tk} gaz käni",
        f"Газовое месторождение {ru}",
        "Türkmengaz",
        "gas_field",
        *where,
        annual,
    )


def _oil_field(
    code: str, tk: str, ru: str, where: tuple[str, str | None], oil: float, gas: float
) -> Enterprise:
    return Enterprise(
        code,
        f"{tk} nebit käni",
        f"Нефтяное месторождение {ru}",
        "Türkmennebit",
        "oil_field",
        *where,
        ((OIL, oil), (GAS, gas)),
    )


def _power_station(
    code: str, tk: str, ru: str, where: tuple[str, str | None], mwh: float
) -> Enterprise:
    return Enterprise(
        code,
        f"{tk} döwlet elektrik stansiýasy",
        f"{ru} государственная электростанция",
        "Energetika ministrligi",
        "power_station",
        *where,
        ((POWER, mwh),),
    )


# Gas in thousand m3, oil and condensate in tonnes, electricity in MWh, a year (2022).
ENTERPRISES = [
    _gas_field("TGZ-GLK", "Galkynyş", "Галкыныш", ("TM-M", "TM-M-11"), 30_000_000, 300_000),
    _gas_field("TGZ-DWL", "Döwletabat", "Довлетабат", ("TM-M", "TM-M-07"), 15_000_000, 150_000),
    _gas_field("TGZ-SAT", "Şatlyk", "Шатлык", ("TM-M", "TM-M-06"), 5_000_000, 40_000),
    _gas_field("TGZ-MLY", "Malaý", "Малай", ("TM-L", "TM-L-03"), 4_000_000, 30_000),
    _gas_field("TGZ-BGT", "Bagtyýarlyk", "Багтыярлык", ("TM-L", "TM-L-14"), 13_000_000, 100_000),
    _gas_field("TGZ-BLK", "Balkan", "Балкан", ("TM-B", "TM-B-05"), 5_000_000, 0),
    _oil_field("TNB-GTD", "Goturdepe", "Готурдепе", ("TM-B", "TM-B-05"), 2_000_000, 1_200_000),
    _oil_field("TNB-BRS", "Barsagelmez", "Барсагельмез", ("TM-B", "TM-B-05"), 1_200_000, 800_000),
    _oil_field("TNB-GMD", "Gumdag", "Гумдаг", ("TM-B", None), 1_000_000, 500_000),
    _oil_field("TNB-KYM", "Keýmir", "Кеймир", ("TM-B", "TM-B-02"), 800_000, 1_500_000),
    _oil_field("TNB-HZR", "Çeleken", "Челекен", ("TM-B", "TM-B-06"), 1_500_000, 1_000_000),
    _oil_field("TNB-DNZ", "Deňiz", "Морское", ("TM-B", "TM-B-06"), 3_500_000, 2_000_000),
    _power_station("ENR-MRY", "Mary", "Марыйская", ("TM-M", "TM-M-03"), 11_000_000),
    _power_station("ENR-AHL", "Ahal", "Ахалская", ("TM-A", "TM-A-02"), 4_000_000),
    _power_station("ENR-ABD", "Abadan", "Абаданская", ("TM-A", "TM-A-01"), 1_500_000),
    _power_station("ENR-BZM", "Büzmeýin", "Бюзмеинская", ("TM-S", "TM-S-03"), 1_500_000),
    _power_station("ENR-BLK", "Balkan", "Балканская", ("TM-B", None), 2_000_000),
    _power_station("ENR-HZR", "Hazar", "Хазарская", ("TM-B", "TM-B-06"), 2_000_000),
    _power_station("ENR-DSG", "Daşoguz", "Дашогузская", ("TM-D", "TM-D-01"), 2_500_000),
    _power_station("ENR-LBP", "Lebap", "Лебапская", ("TM-L", None), 2_000_000),
    _power_station("ENR-SYD", "Seýdi", "Сейдинская", ("TM-L", "TM-L-16"), 1_500_000),
]
GROWTH = {GAS: 1.02, CONDENSATE: 1.0, OIL: 0.99, POWER: 1.03}  # a year on the year before
