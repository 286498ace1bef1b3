-- Every version of the monthly production plan per enterprise, product and month, with its
-- approval date; a month's plan is in force from that date until the next version is approved.
with

plans as (

    select * from {{ ref('stg_fuel_energy__monthly_plans') }}

),

-- A version delivered again in a later batch counts once: the latest batch wins.
versions as (

    select
        plans.enterprise_id,
        plans.enterprise_code,
        plans.product_code,
        plans.plan_month as month_date,
        plans.plan_version,
        plans.approved_date,
        plans.planned_quantity

    from plans
    qualify row_number() over (
            partition by
                plans.enterprise_code, plans.product_code, plans.plan_month, plans.plan_version
            order by plans.batch_id desc, plans.monthly_plan_id desc
        ) = 1

),

final as (

    select
        versions.enterprise_code
        || '|' || versions.product_code
        || '|' || {{ year_month('versions.month_date') }}
        || '|' || cast(versions.plan_version as string) as plan_version_id,
        versions.enterprise_id,
        'fuel_energy_production:' || versions.product_code as product_id,
        versions.enterprise_code,
        versions.product_code,
        versions.month_date,
        versions.plan_version,
        versions.approved_date,
        cast(versions.planned_quantity as decimal(18, 3)) as planned_quantity,
        {{ plan_version_columns(
            'versions', ['enterprise_code', 'product_code', 'month_date'], 'plan_version'
        ) }}

    from versions

)

select * from final
