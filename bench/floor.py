"""The floor: the least work that computes the baseline's six indicators on this machine.

DuckDB, in process and with as many threads as the machine has, reads the columns the
indicators need straight from the landing zone's Parquet batches into memory and computes the
same indicators as ``bench.baseline`` in SQL: no gate, no audit, no dbt, no snapshot, no
server. What the pipeline spends beyond this is the price of what it does beyond computing
these numbers (checking and recording every row, every model and test, the publication).

It reads the batches the warehouse could load: those with a manifest beside them (a Parquet
file without one is the debris of an interrupted extract) and without the data steward's
``.rejected`` marker. Several versions of a row are resolved as the baseline does (the latest
entry, transmission or plan version by key); a register (plants, enterprises) keeps each code's
last landed row. The values are compared with Maglumat's ``indicators.fct_indicator_values`` by
the baseline's own comparison.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bench.baseline import TABLES, BaselineResult, compare
from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths
from pipelines.landing import list_batches, rejection_path

# Registers whose codes the baseline takes in no particular order: the last landed row wins.
REGISTERS = frozenset({"plants", "fe_enterprises"})

PROCESSING_SQL = """
with latest as (
    select plant_code, product_code, output_date, quantity_tonnes
    from daily_output
    qualify row_number() over (
        partition by plant_code, product_code, output_date
        order by entered_at desc, record_id desc
    ) = 1
),
through as (select max(output_date) as last_date from latest),
monthly as (
    select plant_code, product_code, cast(date_trunc('month', output_date) as date) as month_date,
        cast(sum(quantity_tonnes) as decimal(18, 3)) as output_tonnes
    from latest
    group by all
),
plans as (
    select plant_code, product_code, make_date(plan_year, plan_month, 1) as month_date,
        plan_tonnes
    from monthly_plans
    qualify row_number() over (
        partition by plant_code, product_code, plan_year, plan_month
        order by version desc, updated_at desc
    ) = 1
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
    select plants.plant_code, districts.province_code
    from plants
    join districts on plants.district_code = districts.district_code
    qualify row_number() over (
        partition by plants.plant_code order by plants.landed_from desc, plants.landed_row desc
    ) = 1
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

FUEL_ENERGY_SQL = """
with latest as (
    select enterprise_code, product_code, report_date,
        cast(quantity as decimal(18, 3)) as quantity
    from fe_daily
    qualify row_number() over (
        partition by enterprise_code, product_code, report_date order by transmitted_at desc
    ) = 1
),
actual as (
    select enterprise_code, cast(date_trunc('month', report_date) as date) as month_date,
        sum(quantity) filter (where product_code = 'GAZ') as gas,
        sum(quantity) filter (where product_code = 'ELK') as power
    from latest
    group by all
),
reported as (select min(month_date) as first_month, max(month_date) as last_month from actual),
plans as (
    select enterprise_code, product_code, make_date(plan_year, plan_month, 1) as month_date,
        cast(planned_quantity as decimal(18, 3)) as planned_quantity
    from fe_plans
    qualify row_number() over (
        partition by enterprise_code, product_code, plan_year, plan_month
        order by version desc, approved_on desc
    ) = 1
),
planned as (
    select enterprise_code, month_date,
        sum(planned_quantity) filter (where product_code = 'GAZ') as gas,
        sum(planned_quantity) filter (where product_code = 'ELK') as power
    from plans
    group by all
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
    select enterprise_code, province_code
    from fe_enterprises
    qualify row_number() over (
        partition by enterprise_code order by landed_from desc, landed_row desc
    ) = 1
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
    from events
    where parse_error is null
    group by document_id
),
executed as (
    select document_type, receiver_ministry,
        cast(date_trunc('month', cast(executed_at at time zone 'Asia/Ashgabat' as date)) as date)
            as month_date,
        -- rounded to the baseline's three decimals, then a double as percentile_cont takes
        cast(
            cast(extract(epoch from executed_at - registered_at) / 86400 as decimal(18, 3))
            as double
        ) as cycle_time_days
    from documents
    where executed_at is not null and registered_at is not null
)
select 'edoc_cycle_time_median_days', month_date, 'country', 'TM', document_type,
    quantile_cont(cycle_time_days, 0.5)
from executed group by month_date, document_type
union all
select 'edoc_cycle_time_p90_days', month_date, 'country', 'TM', document_type,
    quantile_cont(cycle_time_days, 0.9)
from executed group by month_date, document_type
union all
select 'edoc_cycle_time_median_by_ministry_days', month_date, 'country', 'TM', receiver_ministry,
    quantile_cont(cycle_time_days, 0.5)
from executed group by month_date, receiver_ministry
"""

QUERIES = (
    ("processing", PROCESSING_SQL),
    ("edocument", EDOCUMENT_SQL),
    ("fuel_energy", FUEL_ENERGY_SQL),
)


@dataclass
class FloorResult(BaselineResult):
    """The baseline's shape, so that its comparison fills it in: ``read_seconds`` is the whole
    load (Parquet into DuckDB's memory) and ``copy_seconds`` stays 0, nothing being copied;
    ``missing_in_baseline`` counts Maglumat's values the floor did not compute."""

    threads: int = 0
    batches_read: int = 0
    batches_rejected: int = 0


def landed_batches(paths: MaglumatPaths, system: str, table: str) -> tuple[list[Path], int]:
    """The table's committed batches, oldest first, without those the steward rejected; and
    how many were rejected."""
    files: list[Path] = []
    rejected = 0
    for manifest in list_batches(paths.landing, system, table):
        if rejection_path(paths.landing, manifest).exists():
            rejected += 1
        else:
            files.append(manifest.parquet_path(paths.landing))
    return files, rejected


def _load(
    connection: duckdb.DuckDBPyConnection, name: str, files: list[Path], types: dict[str, str]
) -> int:
    """Create the in-memory table ``name`` of the typed columns the indicators read (and, for a
    register, where each row was landed) and return its row count."""
    register = name in REGISTERS
    if files:
        landed = connection.read_parquet(
            [str(file) for file in files],
            union_by_name=True,
            filename=register,
            file_row_number=register,
        )
        columns = [f"cast({column} as {kind}) as {column}" for column, kind in types.items()]
        order = ["filename as landed_from", "file_row_number as landed_row"]
    else:
        landed = connection.sql("select 1 limit 0")
        columns = [f"cast(null as {kind}) as {column}" for column, kind in types.items()]
        order = ["cast(null as text) as landed_from", "cast(null as bigint) as landed_row"]
    landed.project(", ".join(columns + (order if register else []))).create(name)
    return connection.table(name).shape[0]


def run(paths: MaglumatPaths, snapshot: Path) -> FloorResult:
    """Load, compute and compare, timed apart from the comparison; DuckDB spills, if it must,
    to a temporary directory removed afterwards."""
    result = FloorResult()
    rows: list[tuple] = []
    with (
        tempfile.TemporaryDirectory(prefix="maglumat-floor-") as spill,
        duckdb.connect(config={"temp_directory": spill}) as connection,
    ):
        # PostgreSQL's null order (first when descending), as the baseline's latest rows sort.
        connection.execute("set default_null_order = 'nulls_last_on_asc_first_on_desc'")
        result.threads = int(connection.execute("select current_setting('threads')").fetchone()[0])
        started = time.perf_counter()
        for name, (system, table, types) in TABLES.items():
            files, rejected = landed_batches(paths, system, table)
            result.batches_read += len(files)
            result.batches_rejected += rejected
            result.rows_loaded += _load(connection, name, files, types)
        districts = DBT_PROJECT_DIR / "seeds" / "reference" / "ref_districts.csv"
        connection.read_csv(str(districts), all_varchar=True).project(
            "district_code, province_code"
        ).create("districts")
        result.rows_loaded += connection.table("districts").shape[0]
        result.load_seconds = result.read_seconds = time.perf_counter() - started
        for label, sql in QUERIES:
            query_started = time.perf_counter()
            rows += connection.execute(sql).fetchall()
            result.compute_by_query[label] = time.perf_counter() - query_started
        result.compute_seconds = sum(result.compute_by_query.values())
    compare(result, rows, snapshot)
    return result
