"""The baseline a ministry's IT department would otherwise write: pandas reads the landed files,
COPY loads them into PostgreSQL, and SQL computes the headline indicators.

It reads the same landing-zone Parquet the pipeline landed (so both start from the same rows),
loads it into a scratch schema of the PostgreSQL database named by ``MAGLUMAT_BENCH_POSTGRES_DSN``
(default: the local ``test`` database), computes six indicators and drops the schema. The
values are compared with Maglumat's ``indicators.fct_indicator_values`` so that the comparison
is between two correct answers.
"""

from __future__ import annotations

import io
import math
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import psycopg

from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
COPY_CHUNK_ROWS = 500_000
# Indicator, period type, region levels and the breakdown the baseline computes.
INDICATORS = (
    "proc_plan_fulfilment_pct",
    "edoc_cycle_time_median_days",
    "edoc_cycle_time_p90_days",
    "edoc_cycle_time_median_by_ministry_days",
    "fe_gas_plan_fulfilment_pct",
    "fe_power_plan_fulfilment_pct",
)

# Column types of the scratch tables; only what the indicators read is loaded.
TABLES: dict[str, tuple[str, str, dict[str, str]]] = {
    "daily_output": (
        "processing_output",
        "daily_output",
        {
            "record_id": "bigint",
            "plant_code": "text",
            "product_code": "text",
            "output_date": "date",
            "quantity_tonnes": "double precision",
            "entered_at": "timestamp",
        },
    ),
    "monthly_plans": (
        "processing_output",
        "monthly_plans",
        {
            "plan_id": "bigint",
            "plan_year": "integer",
            "plan_month": "integer",
            "plant_code": "text",
            "product_code": "text",
            "plan_tonnes": "double precision",
            "version": "integer",
            "updated_at": "timestamp",
        },
    ),
    "plants": ("processing_output", "plants", {"plant_code": "text", "district_code": "text"}),
    "events": (
        "edocument_workflow",
        "events",
        {
            "event_type": "text",
            "event_time": "timestamptz",
            "document_id": "text",
            "document_type": "text",
            "receiver_ministry": "text",
            "parse_error": "text",
        },
    ),
    # The fuel-energy inbox lands every value as the CSV text; COPY casts it.
    "fe_daily": (
        "fuel_energy_production",
        "daily_production",
        {
            "report_date": "date",
            "enterprise_code": "text",
            "product_code": "text",
            "quantity": "double precision",
            "transmitted_at": "timestamptz",
        },
    ),
    "fe_plans": (
        "fuel_energy_production",
        "monthly_plans",
        {
            "plan_year": "integer",
            "plan_month": "integer",
            "enterprise_code": "text",
            "product_code": "text",
            "planned_quantity": "double precision",
            "version": "integer",
            "approved_on": "date",
        },
    ),
    "fe_enterprises": (
        "fuel_energy_production",
        "enterprises",
        {"enterprise_code": "text", "province_code": "text"},
    ),
}

PROCESSING_SQL = """
with latest as (
    select distinct on (plant_code, product_code, output_date)
        plant_code, product_code, output_date, quantity_tonnes
    from {schema}.daily_output
    order by plant_code, product_code, output_date, entered_at desc, record_id desc
),
through as (select max(output_date) as last_date from latest),
monthly as (
    select plant_code, product_code, date_trunc('month', output_date)::date as month_date,
        round(sum(quantity_tonnes)::numeric, 3) as output_tonnes
    from latest group by 1, 2, 3
),
plans as (
    select distinct on (plant_code, product_code, plan_year, plan_month)
        plant_code, product_code, make_date(plan_year, plan_month, 1) as month_date, plan_tonnes
    from {schema}.monthly_plans
    order by plant_code, product_code, plan_year, plan_month, version desc, updated_at desc
),
joined as (
    select coalesce(m.plant_code, p.plant_code) as plant_code,
        coalesce(m.month_date, p.month_date) as month_date,
        coalesce(m.output_tonnes, 0) as output_tonnes, p.plan_tonnes
    from monthly as m
    full outer join plans as p
        on m.plant_code = p.plant_code and m.product_code = p.product_code
        and m.month_date = p.month_date
),
regions as (
    select distinct on (plants.plant_code) plants.plant_code, districts.province_code
    from {schema}.plants as plants
    join {schema}.districts as districts on plants.district_code = districts.district_code
)
select 'proc_plan_fulfilment_pct' as indicator_id, joined.month_date as period_start,
    case when grouping(regions.province_code) = 1 then 'country' else 'province' end
        as region_level,
    coalesce(regions.province_code, 'TM') as region_id, null as breakdown,
    100 * sum(joined.output_tonnes) / nullif(sum(joined.plan_tonnes), 0) as value
from joined
join regions on joined.plant_code = regions.plant_code
where joined.month_date <= (select last_date from through)
group by grouping sets ((joined.month_date), (joined.month_date, regions.province_code))
"""

# Gas and power plan fulfilment by month (fct_fuel_energy_monthly_production's ratios): the
# latest transmission of each day's figure, the latest plan version of each month, the months
# from the first to the last with production, provinces from the enterprise register.
FUEL_ENERGY_SQL = """
with latest as (
    select distinct on (enterprise_code, product_code, report_date)
        enterprise_code, product_code, report_date, round(quantity::numeric, 3) as quantity
    from {schema}.fe_daily
    order by enterprise_code, product_code, report_date, transmitted_at desc
),
actual as (
    select enterprise_code, date_trunc('month', report_date)::date as month_date,
        sum(quantity) filter (where product_code = 'GAZ') as gas,
        sum(quantity) filter (where product_code = 'ELK') as power
    from latest group by 1, 2
),
reported as (select min(month_date) as first_month, max(month_date) as last_month from actual),
plans as (
    select distinct on (enterprise_code, product_code, plan_year, plan_month)
        enterprise_code, product_code, make_date(plan_year, plan_month, 1) as month_date,
        round(planned_quantity::numeric, 3) as planned_quantity
    from {schema}.fe_plans
    order by enterprise_code, product_code, plan_year, plan_month, version desc, approved_on desc
),
planned as (
    select enterprise_code, month_date,
        sum(planned_quantity) filter (where product_code = 'GAZ') as gas,
        sum(planned_quantity) filter (where product_code = 'ELK') as power
    from plans group by 1, 2
),
joined as (
    select coalesce(a.enterprise_code, p.enterprise_code) as enterprise_code,
        coalesce(a.month_date, p.month_date) as month_date,
        a.gas as gas_actual, p.gas as gas_plan, a.power as power_actual, p.power as power_plan
    from actual as a
    full outer join planned as p
        on a.enterprise_code = p.enterprise_code and a.month_date = p.month_date
),
kept as (
    select joined.* from joined, reported
    where joined.month_date between reported.first_month and reported.last_month
),
measures as (
    select 'fe_gas_plan_fulfilment_pct' as indicator_id, month_date, enterprise_code,
        gas_actual as actual, gas_plan as plan
    from kept where coalesce(gas_actual, gas_plan) is not null
    union all
    select 'fe_power_plan_fulfilment_pct', month_date, enterprise_code, power_actual, power_plan
    from kept where coalesce(power_actual, power_plan) is not null
),
regions as (
    select distinct on (enterprise_code) enterprise_code, province_code
    from {schema}.fe_enterprises order by enterprise_code
)
select measures.indicator_id, measures.month_date,
    case when grouping(regions.province_code) = 1 then 'country' else 'province' end,
    coalesce(regions.province_code, 'TM'), null,
    100 * sum(measures.actual) / nullif(sum(measures.plan), 0)
from measures
join regions on measures.enterprise_code = regions.enterprise_code
group by grouping sets (
    (measures.indicator_id, measures.month_date),
    (measures.indicator_id, measures.month_date, regions.province_code)
)
"""

EDOCUMENT_SQL = """
with documents as (
    select document_id, max(document_type) as document_type,
        max(receiver_ministry) as receiver_ministry,
        min(event_time) filter (where event_type = 'registered') as registered_at,
        min(event_time) filter (where event_type = 'executed') as executed_at
    from {schema}.events
    where parse_error is null
    group by document_id
),
executed as (
    select document_type, receiver_ministry,
        date_trunc('month', (executed_at at time zone 'Asia/Ashgabat')::date)::date as month_date,
        round((extract(epoch from executed_at - registered_at) / 86400)::numeric, 3)
            as cycle_time_days
    from documents
    where executed_at is not null and registered_at is not null
)
select 'edoc_cycle_time_median_days', month_date, 'country', 'TM', document_type,
    percentile_cont(0.5) within group (order by cycle_time_days)
from executed group by month_date, document_type
union all
select 'edoc_cycle_time_p90_days', month_date, 'country', 'TM', document_type,
    percentile_cont(0.9) within group (order by cycle_time_days)
from executed group by month_date, document_type
union all
select 'edoc_cycle_time_median_by_ministry_days', month_date, 'country', 'TM', receiver_ministry,
    percentile_cont(0.5) within group (order by cycle_time_days)
from executed group by month_date, receiver_ministry
"""


@dataclass
class BaselineResult:
    load_seconds: float = 0.0
    read_seconds: float = 0.0
    copy_seconds: float = 0.0
    compute_seconds: float = 0.0
    rows_loaded: int = 0
    values: int = 0
    matched: int = 0
    mismatches: list[dict] = field(default_factory=list)
    missing_in_maglumat: int = 0
    missing_in_baseline: int = 0
    compute_by_query: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return self.load_seconds + self.compute_seconds

    @property
    def equal(self) -> bool:
        return (
            self.values > 0
            and not self.mismatches
            and not self.missing_in_maglumat
            and not self.missing_in_baseline
        )


def dsn() -> str:
    return os.environ.get("MAGLUMAT_BENCH_POSTGRES_DSN") or DEFAULT_DSN


def _landed(paths: MaglumatPaths, system: str, table: str, columns: list[str]) -> pd.DataFrame:
    files = sorted((paths.landing / system / table).glob("*/*.parquet"))
    if not files:
        return pd.DataFrame({column: pd.Series(dtype="object") for column in columns})
    return pd.concat((pd.read_parquet(file, columns=columns) for file in files), ignore_index=True)


@contextmanager
def _scratch_schema(connection: psycopg.Connection) -> Iterator[str]:
    schema = f"bench_{secrets.token_hex(4)}"
    connection.execute(f"create schema {schema}")
    try:
        yield schema
    finally:
        connection.rollback()
        connection.execute(f"drop schema {schema} cascade")
        connection.commit()


def _copy(connection: psycopg.Connection, schema: str, name: str, frame: pd.DataFrame) -> None:
    columns = ", ".join(frame.columns)
    statement = f"copy {schema}.{name} ({columns}) from stdin (format csv)"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for start in range(0, len(frame), COPY_CHUNK_ROWS):
            buffer = io.StringIO()
            frame.iloc[start : start + COPY_CHUNK_ROWS].to_csv(buffer, index=False, header=False)
            copy.write(buffer.getvalue())


def run(paths: MaglumatPaths, snapshot: Path) -> BaselineResult:
    """Load, compute and compare; the scratch schema is dropped whatever happens."""
    result = BaselineResult()
    with psycopg.connect(dsn()) as connection, _scratch_schema(connection) as schema:
        started = time.perf_counter()
        frames: dict[str, pd.DataFrame] = {}
        for name, (system, table, types) in TABLES.items():
            frames[name] = _landed(paths, system, table, list(types))
        frames["districts"] = pd.read_csv(
            DBT_PROJECT_DIR / "seeds" / "reference" / "ref_districts.csv",
            usecols=["district_code", "province_code"],
        )
        result.read_seconds = time.perf_counter() - started
        copy_started = time.perf_counter()
        all_types = {name: types for name, (_, _, types) in TABLES.items()}
        all_types["districts"] = {"district_code": "text", "province_code": "text"}
        for name, frame in frames.items():
            definition = ", ".join(f"{column} {kind}" for column, kind in all_types[name].items())
            connection.execute(f"create table {schema}.{name} ({definition})")
            _copy(connection, schema, name, frame)
            result.rows_loaded += len(frame)
        connection.commit()
        result.copy_seconds = time.perf_counter() - copy_started
        result.load_seconds = time.perf_counter() - started
        rows: list[tuple] = []
        queries = (
            ("processing", PROCESSING_SQL),
            ("edocument", EDOCUMENT_SQL),
            ("fuel_energy", FUEL_ENERGY_SQL),
        )
        for label, sql in queries:
            query_started = time.perf_counter()
            rows += connection.execute(sql.format(schema=schema)).fetchall()
            result.compute_by_query[label] = time.perf_counter() - query_started
        result.compute_seconds = sum(result.compute_by_query.values())
    compare(result, rows, snapshot)
    return result


def compare(result: BaselineResult, rows: list[tuple], snapshot: Path) -> None:
    baseline = {
        (str(indicator), period.isoformat(), level, region, breakdown): value
        for indicator, period, level, region, breakdown, value in rows
    }
    connection = duckdb.connect(str(snapshot), read_only=True)
    try:
        ours = connection.execute(
            "select indicator_id, cast(period_start as varchar), region_level, region_id,"
            " breakdown, value from indicators.fct_indicator_values"
            " where list_contains(?, indicator_id) and period_type = 'month'"
            " and enterprise_id is null and region_level in ('country', 'province')",
            [list(INDICATORS)],
        ).fetchall()
    finally:
        connection.close()
    maglumat = {tuple(row[:5]): row[5] for row in ours}
    result.values = len(baseline)
    result.missing_in_maglumat = len(baseline.keys() - maglumat.keys())
    result.missing_in_baseline = len(maglumat.keys() - baseline.keys())
    for key in baseline.keys() & maglumat.keys():
        theirs, mine = baseline[key], maglumat[key]
        if (theirs is None and mine is None) or (
            theirs is not None
            and mine is not None
            and math.isclose(float(theirs), float(mine), rel_tol=1e-7, abs_tol=1e-5)
        ):
            result.matched += 1
        elif len(result.mismatches) < 10:
            result.mismatches.append({"key": list(key), "baseline": theirs, "maglumat": mine})
        else:
            result.mismatches.append({"key": list(key)})
