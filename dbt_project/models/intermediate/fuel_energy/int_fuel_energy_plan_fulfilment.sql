-- Monthly production per enterprise and product beside three plans: the original (first
-- version), the version in force at the end of the month (approved by its last day) and the
-- latest version. Quantities are in each product's unit (see the unit column).
with

monthly as (

    select * from {{ ref('fct_fuel_energy_monthly_production') }}

),

versions as (

    select * from {{ ref('int_fuel_energy_plan_versions') }}

),

-- The monthly fact holds one actual column per carrier; one row per product is easier to match.
actuals as (

    select
        monthly.enterprise_id,
        monthly.report_month,
        'GAZ' as product_code,
        'thousand m3' as unit,
        monthly.natural_gas_actual_thousand_m3 as actual_quantity
    from monthly

    union all

    select
        monthly.enterprise_id,
        monthly.report_month,
        'KND' as product_code,
        'tonnes' as unit,
        monthly.gas_condensate_actual_tonnes as actual_quantity
    from monthly

    union all

    select
        monthly.enterprise_id,
        monthly.report_month,
        'NBT' as product_code,
        'tonnes' as unit,
        monthly.crude_oil_actual_tonnes as actual_quantity
    from monthly

    union all

    select
        monthly.enterprise_id,
        monthly.report_month,
        'ELK' as product_code,
        'MWh' as unit,
        monthly.electricity_actual_mwh as actual_quantity
    from monthly

),

{{ plan_choices(
    'versions', ['enterprise_id', 'product_code', 'month_date'], 'plan_version', 'month_date'
) }},

-- Keep the products an enterprise produces or is planned to produce.
relevant as (

    select actuals.*
    from actuals
    where
        actuals.actual_quantity is not null
        or exists (
            select 1
            from versions
            where
                versions.enterprise_id = actuals.enterprise_id
                and versions.product_code = actuals.product_code
                and versions.month_date = actuals.report_month
        )

),

final as (

    select
        relevant.enterprise_id
        || '|' || relevant.product_code
        || '|' || {{ year_month('relevant.report_month') }} as plan_fulfilment_id,
        relevant.enterprise_id,
        'fuel_energy_production:' || relevant.product_code as product_id,
        relevant.product_code,
        relevant.report_month,
        relevant.unit,
        cast(relevant.actual_quantity as decimal(18, 3)) as actual_quantity,
        original_plans.planned_quantity as original_plan_quantity,
        original_plans.plan_version as original_plan_version,
        in_force_plans.planned_quantity as in_force_plan_quantity,
        in_force_plans.plan_version as in_force_plan_version,
        in_force_plans.approved_date as in_force_approved_date,
        latest_plans.planned_quantity as latest_plan_quantity,
        latest_plans.plan_version as latest_plan_version,
        latest_plans.approved_date as latest_approved_date

    from relevant
    left join original_plans
        on
            relevant.enterprise_id = original_plans.enterprise_id
            and relevant.product_code = original_plans.product_code
            and relevant.report_month = original_plans.month_date
    left join in_force_plans
        on
            relevant.enterprise_id = in_force_plans.enterprise_id
            and relevant.product_code = in_force_plans.product_code
            and relevant.report_month = in_force_plans.month_date
    left join latest_plans
        on
            relevant.enterprise_id = latest_plans.enterprise_id
            and relevant.product_code = latest_plans.product_code
            and relevant.report_month = latest_plans.month_date

)

select * from final
