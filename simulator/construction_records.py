"""The construction project register's tables (one dataclass a table) and its reference data:
the contractors, and the project types with their customers, budgets, durations, milestones,
shares and names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Contractor:
    contractor_id: int
    contractor_name: str
    ownership: str
    supervising_ministry: str | None
    district_code: str
    country_code: str
    registered_on: str
    updated_at: str


@dataclass(frozen=True)
class Project:
    project_id: int
    project_code: str
    project_name: str
    project_type: str
    customer: str
    district_code: str
    contractor_id: int
    budget_tmt: float
    planned_start_date: str
    planned_completion_date: str
    actual_start_date: str | None
    actual_completion_date: str | None
    status: str
    updated_at: str


@dataclass(frozen=True)
class Milestone:
    milestone_id: int
    project_id: int
    sequence_no: int
    milestone_code: str
    planned_date: str
    actual_date: str | None
    updated_at: str


@dataclass(frozen=True)
class ProgressReport:
    report_id: int
    project_id: int
    report_month: str
    revision: int
    completion_pct: float
    spent_to_date_tmt: float
    workers_on_site: int
    submitted_at: str


MINISTRY = "Ministry of Construction and Architecture"
REGISTER_OPENED = "2020-12-01 05:00:00"
# name, ownership, supervising ministry, district, country
CONTRACTORS: tuple[tuple[str, str, str | None, str, str], ...] = (
    ("Türkmengurluşyk tresti", "state", MINISTRY, "TM-S-01", "TM"),
    ("Ahalgurluşyk tresti", "state", MINISTRY, "TM-A-05", "TM"),
    ("Marygurluşyk tresti", "state", MINISTRY, "TM-M-03", "TM"),
    ("Lebapgurluşyk tresti", "state", MINISTRY, "TM-L-15", "TM"),
    ("Daşoguzgurluşyk tresti", "state", MINISTRY, "TM-D-01", "TM"),
    ("Balkangurluşyk tresti", "state", MINISTRY, "TM-B-05", "TM"),
    ("Türkmenawtoýollary döwlet konserniniň ýol gurluşyk tresti", "state", None, "TM-S-02", "TM"),
    ("Türkmensuwgurluşyk tresti", "state", None, "TM-S-03", "TM"),
    ("Ak Ýol Gurluşyk hususy kärhanasy", "private", None, "TM-S-04", "TM"),
    ("Berkarar Inžiniring hojalyk jemgyýeti", "private", None, "TM-S-02", "TM"),
    ("Garagum Binagär hususy kärhanasy", "private", None, "TM-M-03", "TM"),
    ("Nusaý Gurluşyk açyk görnüşli paýdarlar jemgyýeti", "joint_stock", None, "TM-A-05", "TM"),
    ("Anadolu Yapı A.Ş. (Türkmenistandaky şahamçasy)", "foreign", None, "TM-S-01", "TR"),
    ("Minskstroy (Türkmenistandaky wekilhanasy)", "foreign", None, "TM-S-04", "BY"),
)
# type, customer, budget range (thousand TMT), planned duration in months, milestones
PROJECT_TYPES: dict[str, tuple[str, tuple[float, float], tuple[int, int], tuple[str, ...]]] = {
    "school": (
        "Ministry of Education",
        (60_000, 110_000),
        (14, 22),
        ("site_preparation", "foundation", "frame", "roof", "finishing", "commissioning"),
    ),
    "kindergarten": (
        "Ministry of Education",
        (25_000, 45_000),
        (10, 16),
        ("site_preparation", "foundation", "frame", "roof", "finishing", "commissioning"),
    ),
    "hospital": (
        "Ministry of Health and Medical Industry",
        (150_000, 300_000),
        (20, 32),
        (
            "site_preparation",
            "foundation",
            "frame",
            "roof",
            "engineering_networks",
            "finishing",
            "commissioning",
        ),
    ),
    "housing": (
        "Province administration (häkimlik)",
        (35_000, 70_000),
        (12, 20),
        ("foundation", "frame", "roof", "engineering_networks", "finishing", "commissioning"),
    ),
    "road": (
        "Türkmenawtoýollary State Concern",
        (200_000, 600_000),
        (18, 36),
        ("earthworks", "subbase", "base_course", "asphalt", "markings_and_signs", "commissioning"),
    ),
    "bridge": (
        "Türkmenawtoýollary State Concern",
        (80_000, 200_000),
        (16, 28),
        ("piers", "superstructure", "deck", "commissioning"),
    ),
    "water_pipeline": (
        "State Committee for Water Management",
        (40_000, 120_000),
        (10, 20),
        ("trenching", "pipe_laying", "pressure_testing", "commissioning"),
    ),
    "culture_centre": (
        "Ministry of Culture",
        (60_000, 150_000),
        (16, 26),
        ("site_preparation", "foundation", "frame", "roof", "finishing", "commissioning"),
    ),
    "sports_complex": (
        "State Committee for Sport",
        (50_000, 130_000),
        (14, 24),
        ("site_preparation", "foundation", "frame", "roof", "finishing", "commissioning"),
    ),
}
TYPE_WEIGHTS = {
    "school": 22,
    "kindergarten": 16,
    "hospital": 6,
    "housing": 20,
    "road": 7,
    "bridge": 4,
    "water_pipeline": 10,
    "culture_centre": 8,
    "sports_complex": 7,
}
NAMES = {
    "school": "{district} etrabynda 720 orunlyk umumy bilim berýän orta mekdep",
    "kindergarten": "{district} etrabynda 320 orunlyk çagalar baky",
    "hospital": "{district} etrabynda 150 orunlyk etrap hassahanasy",
    "housing": "{district} etrabynda 12 gatly 96 öýli ýaşaýyş jaýy",
    "road": "{district} etrabynyň içinden geçýän awtomobil ýolunyň täzeden gurulmagy",
    "bridge": "{district} etrabynda awtomobil köprüsi",
    "water_pipeline": "{district} etrabynyň obalaryna agyz suw geçirijisi",
    "culture_centre": "{district} etrabynda 600 orunlyk Medeniýet öýi",
    "sports_complex": "{district} etrabynda sport toplumy",
}
PROJECT_COUNT = 96
ROADS, WATER = 7, 8  # the road and water trusts build every road, bridge and pipeline
OTHER_CONTRACTORS = (9, 10, 11, 12, 13, 14)  # private, joint-stock and foreign firms
