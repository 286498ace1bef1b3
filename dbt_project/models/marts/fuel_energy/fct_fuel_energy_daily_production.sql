-- Production by enterprise and day, one column per energy carrier in its unit. The latest
-- transmission of each figure wins: a day the dispatch centre sends again replaces what it
-- first sent. Every transmission stays in staging.
-- Incremental on DuckDB: a daily build rebuilds only the days its new batches bring (a day sent
-- again included), each from every transmission of that day (macros/incremental/).
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='delete+insert',
    unique_key='report_date',
    on_schema_change='fail',
) }}

with

all_reports as (

    select * from {{ ref('stg_fuel_energy__daily_reports') }}

),

-- Every transmission of the days to build: all of them, or those the new batches touched.
reports as (

    select all_reports.*
    from all_reports
    {% if is_incremental() -%}
    where all_reports.report_date in (
        select distinct touched.report_date
        from all_reports as touched
        where touched.batch_id in (
            {{ increment_batch_ids('fuel_energy_production', 'daily_production') }}
        )
    )
    {%- endif %}

),

latest as (

    select
        reports.*,
        count(*) over (
            partition by reports.report_date, reports.enterprise_code, reports.product_code
        ) - 1 as correction_count

    from reports
    qualify
        row_number() over (
            partition by reports.report_date, reports.enterprise_code, reports.product_code
            order by
                reports.transmitted_at desc,
                reports.batch_id desc,
                reports.batch_row_number desc
        ) = 1

),

final as (

    select
        latest.enterprise_id || '|' || cast(latest.report_date as string) as daily_production_id,
        latest.report_date,
        latest.enterprise_id,
        cast(
            sum(case when latest.product_code = 'GAZ' then latest.quantity end) as decimal(18, 3)
        ) as natural_gas_thousand_m3,
        cast(
            sum(case when latest.product_code = 'KND' then latest.quantity end) as decimal(18, 3)
        ) as gas_condensate_tonnes,
        cast(
            sum(case when latest.product_code = 'NBT' then latest.quantity end) as decimal(18, 3)
        ) as crude_oil_tonnes,
        cast(
            sum(case when latest.product_code = 'ELK' then latest.quantity end) as decimal(18, 3)
        ) as electricity_mwh,
        cast(max(latest.correction_count) as integer) as correction_count,
        max(latest.transmitted_at) as transmitted_at

    from latest
    group by latest.enterprise_id, latest.report_date

)

select * from final
