"""The health ministry's reported records (one dataclass a workbook's row) and its reference
data: the medicine classifier, the province hospitals and the national centres.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Facility:
    facility_code: str
    name_tk: str
    name_ru: str
    facility_type: str
    province_code: str
    district_code: str | None
    beds: int


@dataclass(frozen=True)
class Medicine:
    medicine_code: str
    name_tk: str
    name_ru: str
    name_en: str
    unit: str
    is_essential: bool
    demand_per_100_beds: float  # units a month


@dataclass(frozen=True)
class FacilityReport:
    report_month: dt.date
    facility_code: str
    beds: int
    bed_days_used: int
    outpatient_visits: int
    inpatient_admissions: int
    submitted_on: dt.date
    compiled_on: dt.date
    file_name: str


@dataclass(frozen=True)
class StockReport:
    report_month: dt.date
    facility_code: str
    medicine_code: str
    opening_stock: int
    received: int
    consumed: int
    closing_stock: int
    compiled_on: dt.date
    file_name: str


MEDICINES = [
    Medicine(
        "DM-AMX",
        "Amoksisillin 500 mg, kapsula",
        "Амоксициллин 500 мг, капсулы",
        "Amoxicillin 500 mg capsules",
        "gap",
        True,
        40,
    ),
    Medicine(
        "DM-PRC",
        "Parasetamol 500 mg, tablet",
        "Парацетамол 500 мг, таблетки",
        "Paracetamol 500 mg tablets",
        "gap",
        True,
        80,
    ),
    Medicine(
        "DM-INS",
        "Insulin izofan, 10 ml",
        "Инсулин изофан, 10 мл",
        "Insulin isophane 10 ml",
        "flakon",
        True,
        15,
    ),
    Medicine(
        "DM-MTF",
        "Metformin 500 mg, tablet",
        "Метформин 500 мг, таблетки",
        "Metformin 500 mg tablets",
        "gap",
        True,
        30,
    ),
    Medicine(
        "DM-ENL",
        "Enalapril 10 mg, tablet",
        "Эналаприл 10 мг, таблетки",
        "Enalapril 10 mg tablets",
        "gap",
        True,
        35,
    ),
    Medicine(
        "DM-OMP",
        "Omeprazol 20 mg, kapsula",
        "Омепразол 20 мг, капсулы",
        "Omeprazole 20 mg capsules",
        "gap",
        False,
        30,
    ),
    Medicine(
        "DM-CFT",
        "Seftriakson 1 g, flakon",
        "Цефтриаксон 1 г, флаконы",
        "Ceftriaxone 1 g vials",
        "flakon",
        True,
        120,
    ),
    Medicine(
        "DM-NAC",
        "Natriý hloridi 0,9 %, 500 ml",
        "Натрия хлорид 0,9 %, 500 мл",
        "Sodium chloride 0.9 % 500 ml",
        "flakon",
        True,
        200,
    ),
    Medicine(
        "DM-SLB",
        "Salbutamol, ingalýator",
        "Сальбутамол, ингалятор",
        "Salbutamol inhaler",
        "sany",
        True,
        10,
    ),
    Medicine(
        "DM-ATV",
        "Atorwastatin 20 mg, tablet",
        "Аторвастатин 20 мг, таблетки",
        "Atorvastatin 20 mg tablets",
        "gap",
        False,
        20,
    ),
    Medicine(
        "DM-OXT",
        "Oksitosin 5 HB, ampula",
        "Окситоцин 5 МЕ, ампулы",
        "Oxytocin 5 IU ampoules",
        "ampula",
        True,
        25,
    ),
    Medicine(
        "DM-DCL",
        "Diklofenak 75 mg, ampula",
        "Диклофенак 75 мг, ампулы",
        "Diclofenac 75 mg ampoules",
        "ampula",
        False,
        60,
    ),
]
PROVINCE_HOSPITALS = {
    "TM-A": ("Ahal", "Ахалского"),
    "TM-B": ("Balkan", "Балканского"),
    "TM-D": ("Daşoguz", "Дашогузского"),
    "TM-L": ("Lebap", "Лебапского"),
    "TM-M": ("Mary", "Марыйского"),
}
NATIONAL_CENTRES = [
    ("SG-S90", "Halkara lukmançylyk merkezi", "Международный медицинский центр", 300),
    ("SG-S91", "Kardiologiýa ylmy-kliniki merkezi", "Научно-клинический центр кардиологии", 250),
    ("SG-S92", "Onkologiýa ylmy-kliniki merkezi", "Научно-клинический центр онкологии", 300),
    (
        "SG-S93",
        "Enäniň we çaganyň saglygyny goraýyş halkara merkezi",
        "Международный центр охраны здоровья матери и ребёнка",
        400,
    ),
]
