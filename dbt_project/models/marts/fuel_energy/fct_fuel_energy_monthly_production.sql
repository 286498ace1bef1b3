-- Monthly plan against actual by enterprise, a plan and an actual column per energy carrier.
-- The plan in force is the latest version of each month's figure; the actual sums the days'
-- latest figures. Months run from the first reported month to the last.
with

daily as (

    select * from {{ ref('fct_fuel_energy_daily_production') }}

),

plans as (

    select * from {{ ref('stg_fuel_energy__monthly_plans') }}

),

plans_in_force as (

    select * from plans
    qualify
        row_number() over (
            partition by plans.plan_month, plans.enterprise_code, plans.product_code
            order by plans.plan_version desc, plans.approved_date desc, plans.batch_id desc
        ) = 1

),

monthly_plan as (

    select
        plans_in_force.enterprise_id,
        plans_in_force.plan_month as report_month,
        sum(
            case when plans_in_force.product_code = 'GAZ' then plans_in_force.planned_quantity end
        ) as natural_gas_plan_thousand_m3,
        sum(
            case when plans_in_force.product_code = 'KND' then plans_in_force.planned_quantity end
        ) as gas_condensate_plan_tonnes,
        sum(
            case when plans_in_force.product_code = 'NBT' then plans_in_force.planned_quantity end
        ) as crude_oil_plan_tonnes,
        sum(
            case when plans_in_force.product_code = 'ELK' then plans_in_force.planned_quantity end
        ) as electricity_plan_mwh

    from plans_in_force
    group by plans_in_force.enterprise_id, plans_in_force.plan_month

),

monthly_actual as (

    select
        daily.enterprise_id,
        cast(date_trunc('month', daily.report_date) as date) as report_month,
        sum(daily.natural_gas_thousand_m3) as natural_gas_actual_thousand_m3,
        sum(daily.gas_condensate_tonnes) as gas_condensate_actual_tonnes,
        sum(daily.crude_oil_tonnes) as crude_oil_actual_tonnes,
        sum(daily.electricity_mwh) as electricity_actual_mwh,
        count(*) as days_reported

    from daily
    group by daily.enterprise_id, cast(date_trunc('month', daily.report_date) as date)

),

reported_months as (

    select
        min(monthly_actual.report_month) as first_month,
        max(monthly_actual.report_month) as last_month

    from monthly_actual

),

joined as (

    select
        coalesce(monthly_plan.enterprise_id, monthly_actual.enterprise_id) as enterprise_id,
        coalesce(monthly_plan.report_month, monthly_actual.report_month) as report_month,
        monthly_plan.natural_gas_plan_thousand_m3,
        monthly_actual.natural_gas_actual_thousand_m3,
        monthly_plan.gas_condensate_plan_tonnes,
        monthly_actual.gas_condensate_actual_tonnes,
        monthly_plan.crude_oil_plan_tonnes,
        monthly_actual.crude_oil_actual_tonnes,
        monthly_plan.electricity_plan_mwh,
        monthly_actual.electricity_actual_mwh,
        coalesce(monthly_actual.days_reported, 0) as days_reported

    from monthly_plan
    full outer join monthly_actual
        on
            monthly_plan.enterprise_id = monthly_actual.enterprise_id
            and monthly_plan.report_month = monthly_actual.report_month

),

final as (

    select
        joined.enterprise_id || '|' || cast(joined.report_month as string)
            as monthly_production_id,
        joined.enterprise_id,
        joined.report_month,
        cast(joined.natural_gas_plan_thousand_m3 as decimal(18, 3))
            as natural_gas_plan_thousand_m3,
        cast(joined.natural_gas_actual_thousand_m3 as decimal(18, 3))
            as natural_gas_actual_thousand_m3,
        cast(joined.gas_condensate_plan_tonnes as decimal(18, 3)) as gas_condensate_plan_tonnes,
        cast(joined.gas_condensate_actual_tonnes as decimal(18, 3))
            as gas_condensate_actual_tonnes,
        cast(joined.crude_oil_plan_tonnes as decimal(18, 3)) as crude_oil_plan_tonnes,
        cast(joined.crude_oil_actual_tonnes as decimal(18, 3)) as crude_oil_actual_tonnes,
        cast(joined.electricity_plan_mwh as decimal(18, 3)) as electricity_plan_mwh,
        cast(joined.electricity_actual_mwh as decimal(18, 3)) as electricity_actual_mwh,
        joined.days_reported,
        cast(
            date_part('day', last_day(joined.report_month)) as integer
        ) as days_in_month

    from joined
    inner join reported_months
        on joined.report_month between reported_months.first_month and reported_months.last_month

)

select * from final
