"""The processing output register's tables (one dataclass a table) and its reference data:
the plants of each kind with their owners and districts, their capacities, and the products
with their yields per tonne of raw material.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plant:
    plant_code: str
    plant_name: str
    plant_type: str
    owner: str
    district_code: str
    capacity_tonnes_per_day: float  # raw material processed: raw cotton, wheat, seed, milk ...
    commissioned_on: str
    is_active: int
    updated_at: str


@dataclass(frozen=True)
class Product:
    product_code: str
    product_name_tk: str
    product_name_ru: str
    product_name_en: str
    unit: str
    product_group: str
    updated_at: str


@dataclass(frozen=True)
class MonthlyPlan:
    plan_id: int
    plan_year: int
    plan_month: int
    plant_code: str
    product_code: str
    plan_tonnes: float
    version: int
    approved_on: str
    updated_at: str


@dataclass(frozen=True)
class DailyOutput:
    record_id: int
    plant_code: str
    product_code: str
    output_date: str
    quantity_tonnes: float
    corrects_record_id: int | None
    entered_by: str
    entered_at: str


GINS = "Ministry of Agriculture"
MILLS = "Türkmengallaönümleri State Association"
FOOD = "Ministry of Industry and Construction Production"
REGISTER_OPENED = "2021-12-01 05:00:00"

# plant code, name, type, owner, district
PLANTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("PZ-01", "Tejen pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-A-09"),
    ("PZ-02", "Babadaýhan pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-A-03"),
    ("PZ-03", "Sarahs pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-A-08"),
    ("PZ-04", "Baýramaly pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-M-01"),
    ("PZ-05", "Murgap pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-M-04"),
    ("PZ-06", "Sakarçäge pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-M-06"),
    ("PZ-07", "Ýolöten pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-M-11"),
    ("PZ-08", "Döwletli pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-L-04"),
    ("PZ-09", "Halaç pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-L-09"),
    ("PZ-10", "Saýat pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-L-14"),
    ("PZ-11", "Garabekewül pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-L-07"),
    ("PZ-12", "Köneürgenç pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-D-02"),
    ("PZ-13", "Görogly pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-D-05"),
    ("PZ-14", "Boldumsaz pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-D-04"),
    ("PZ-15", "Serdar pagta arassalaýjy kärhanasy", "cotton_gin", GINS, "TM-B-05"),
    ("UZ-01", "Aşgabat un önümleri kärhanasy", "flour_mill", MILLS, "TM-S-03"),
    ("UZ-02", "Gökdepe dökün kärhanasy", "flour_mill", MILLS, "TM-A-05"),
    ("UZ-03", "Tejen dökün kärhanasy", "flour_mill", MILLS, "TM-A-09"),
    ("UZ-04", "Kaka dökün kärhanasy", "flour_mill", MILLS, "TM-A-06"),
    ("UZ-05", "Mary un önümleri kärhanasy", "flour_mill", MILLS, "TM-M-03"),
    ("UZ-06", "Baýramaly dökün kärhanasy", "flour_mill", MILLS, "TM-M-01"),
    ("UZ-07", "Serdarabat dökün kärhanasy", "flour_mill", MILLS, "TM-L-15"),
    ("UZ-08", "Halaç dökün kärhanasy", "flour_mill", MILLS, "TM-L-09"),
    ("UZ-09", "Daşoguz un önümleri kärhanasy", "flour_mill", MILLS, "TM-D-01"),
    ("UZ-10", "Köneürgenç dökün kärhanasy", "flour_mill", MILLS, "TM-D-02"),
    ("UZ-11", "Serdar dökün kärhanasy", "flour_mill", MILLS, "TM-B-05"),
    ("UZ-12", "Türkmenbaşy dökün kärhanasy", "flour_mill", MILLS, "TM-B-06"),
    ("YZ-01", "Mary ýag zawody", "vegetable_oil", FOOD, "TM-M-03"),
    ("YZ-02", "Serdarabat ýag-piý kombinaty", "vegetable_oil", FOOD, "TM-L-15"),
    ("YZ-03", "Daşoguz ýag zawody", "vegetable_oil", FOOD, "TM-D-01"),
    ("YZ-04", "Baýramaly ýag zawody", "vegetable_oil", FOOD, "TM-M-01"),
    ("KZ-01", "Tejen konserwa zawody", "cannery", FOOD, "TM-A-09"),
    ("KZ-02", "Farap miwe-gök önüm konserwa zawody", "cannery", FOOD, "TM-L-05"),
    ("KZ-03", "Görogly konserwa zawody", "cannery", FOOD, "TM-D-05"),
    ("KZ-04", "Murgap konserwa zawody", "cannery", FOOD, "TM-M-04"),
    ("SZ-01", "Aşgabat süýt önümleri kärhanasy", "dairy", FOOD, "TM-S-04"),
    ("SZ-02", "Mary süýt zawody", "dairy", FOOD, "TM-M-03"),
    ("SZ-03", "Daşoguz süýt zawody", "dairy", FOOD, "TM-D-01"),
    ("SZ-04", "Serdar süýt zawody", "dairy", FOOD, "TM-B-05"),
)
# Daily throughput of raw material (tonnes): raw cotton, wheat, cottonseed, fruit and
# vegetables, raw milk.
CAPACITY = {
    "cotton_gin": (380.0, 520.0),
    "flour_mill": (190.0, 290.0),
    "vegetable_oil": (260.0, 380.0),
    "cannery": (60.0, 110.0),
    "dairy": (45.0, 90.0),
}
# product code, names (tk, ru, en), group, plant type, yield per tonne of raw material
PRODUCTS: tuple[tuple[str, str, str, str, str, str, float], ...] = (
    ("101", "Pagta süýümi", "Хлопковое волокно", "Cotton fibre", "cotton", "cotton_gin", 0.335),
    ("102", "Çigit", "Хлопковые семена", "Cottonseed", "cotton", "cotton_gin", 0.56),
    ("201", "Bugdaý uny", "Мука пшеничная", "Wheat flour", "grain", "flour_mill", 0.73),
    ("202", "Kepek", "Отруби", "Wheat bran", "grain", "flour_mill", 0.22),
    ("301", "Pagta ýagy", "Хлопковое масло", "Cottonseed oil", "oil", "vegetable_oil", 0.165),
    ("302", "Şrot", "Шрот хлопковый", "Cottonseed meal", "oil", "vegetable_oil", 0.44),
    (
        "401",
        "Gök önüm konserwasy",
        "Овощные консервы",
        "Canned vegetables",
        "canned",
        "cannery",
        0.62,
    ),
    ("402", "Tomat pastasy", "Томатная паста", "Tomato paste", "canned", "cannery", 0.16),
    ("501", "Süýt", "Молоко питьевое", "Drinking milk", "dairy", "dairy", 0.74),
    ("502", "Sary ýag", "Масло сливочное", "Butter", "dairy", "dairy", 0.021),
    ("503", "Peýnir", "Сыр", "Cheese", "dairy", "dairy", 0.032),
)
