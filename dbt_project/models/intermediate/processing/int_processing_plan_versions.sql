-- Every version of the monthly output plan per plant, product and month, with its approval
-- date; a month's plan is in force from that date until the next version is approved.
with

plans as (

    select * from {{ ref('stg_processing__monthly_plans') }}

),

-- A version re-sent by the source (same number) counts once: its last update wins.
versions as (

    select
        plans.plant_code,
        plans.product_code,
        plans.plan_month_date as month_date,
        plans.plan_version,
        plans.approved_date,
        plans.plan_tonnes

    from plans
    qualify row_number() over (
            partition by
                plans.plant_code, plans.product_code, plans.plan_month_date, plans.plan_version
            order by plans.updated_at desc, plans.plan_id desc
        ) = 1

),

final as (

    select
        versions.plant_code
        || '|' || versions.product_code
        || '|' || {{ year_month('versions.month_date') }}
        || '|' || cast(versions.plan_version as string) as plan_version_id,
        'processing_output:' || versions.plant_code as enterprise_id,
        'processing_output:' || versions.product_code as product_id,
        versions.plant_code,
        versions.product_code,
        versions.month_date,
        versions.plan_version,
        versions.approved_date,
        cast(versions.plan_tonnes as decimal(18, 3)) as plan_tonnes,
        {{ plan_version_columns(
            'versions', ['plant_code', 'product_code', 'month_date'], 'plan_version'
        ) }}

    from versions

)

select * from final
