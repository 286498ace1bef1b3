-- Output against plan per plant, product and month, every month up to the last reported day.
-- The latest entry of each plant, product and day wins (corrections replace what they correct);
-- the plan is the latest version of the month's plan.
with

outputs as (

    select * from {{ ref('stg_processing__daily_outputs') }}

),

plans as (

    select * from {{ ref('stg_processing__monthly_plans') }}

),

enterprises as (

    select * from {{ ref('stg_processing__enterprises') }}

),

latest_outputs as (

    select
        outputs.plant_code,
        outputs.product_code,
        outputs.output_date,
        outputs.output_tonnes,
        count(*) over (
            partition by outputs.plant_code, outputs.product_code, outputs.output_date
        ) > 1 as is_corrected

    from outputs
    qualify row_number() over (
            partition by outputs.plant_code, outputs.product_code, outputs.output_date
            order by outputs.entered_at desc, outputs.output_record_id desc
        ) = 1

),

data_through as (

    select max(latest_outputs.output_date) as data_through_date
    from latest_outputs

),

monthly_outputs as (

    select
        latest_outputs.plant_code,
        latest_outputs.product_code,
        cast(date_trunc('month', latest_outputs.output_date) as date) as month_date,
        sum(latest_outputs.output_tonnes) as output_tonnes,
        count(*) as days_reported,
        count(*) filter (where latest_outputs.is_corrected) as days_corrected,
        max(latest_outputs.output_date) as last_output_date

    from latest_outputs
    group by 1, 2, 3

),

plans_in_force as (

    select
        plans.plant_code,
        plans.product_code,
        plans.plan_month_date as month_date,
        plans.plan_tonnes,
        plans.plan_version

    from plans
    qualify row_number() over (
            partition by plans.plant_code, plans.product_code, plans.plan_month_date
            order by plans.plan_version desc, plans.updated_at desc
        ) = 1

),

joined as (

    select
        coalesce(monthly_outputs.plant_code, plans_in_force.plant_code) as plant_code,
        coalesce(monthly_outputs.product_code, plans_in_force.product_code) as product_code,
        coalesce(monthly_outputs.month_date, plans_in_force.month_date) as month_date,
        plans_in_force.plan_tonnes,
        plans_in_force.plan_version,
        coalesce(monthly_outputs.output_tonnes, 0) as output_tonnes,
        coalesce(monthly_outputs.days_reported, 0) as days_reported,
        coalesce(monthly_outputs.days_corrected, 0) as days_corrected,
        monthly_outputs.last_output_date

    from monthly_outputs
    full outer join plans_in_force
        on
            monthly_outputs.plant_code = plans_in_force.plant_code
            and monthly_outputs.product_code = plans_in_force.product_code
            and monthly_outputs.month_date = plans_in_force.month_date

),

reported_months as (

    select
        joined.*,
        data_through.data_through_date

    from joined
    cross join data_through
    where joined.month_date <= data_through.data_through_date

),

final as (

    select
        reported_months.plant_code
        || '|' || reported_months.product_code
        || '|' || {{ year_month('reported_months.month_date') }} as output_month_id,
        reported_months.month_date,
        cast(extract(year from reported_months.month_date) as integer) as output_year,
        'processing_output:' || reported_months.plant_code as enterprise_id,
        'processing_output:' || reported_months.product_code as product_id,
        reported_months.plant_code,
        reported_months.product_code,
        enterprises.province_code,
        enterprises.district_code,
        cast(reported_months.plan_tonnes as decimal(18, 3)) as plan_tonnes,
        cast(reported_months.output_tonnes as decimal(18, 3)) as output_tonnes,
        case
            when reported_months.plan_tonnes > 0
                then cast(
                        round(100 * reported_months.output_tonnes / reported_months.plan_tonnes, 1)
                        as decimal(18, 3)
                    )
        end as fulfilment_pct,
        cast(sum(reported_months.plan_tonnes) over year_to_date as decimal(18, 3))
            as plan_ytd_tonnes,
        cast(sum(reported_months.output_tonnes) over year_to_date as decimal(18, 3))
            as output_ytd_tonnes,
        reported_months.plan_version,
        reported_months.days_reported,
        reported_months.days_corrected,
        reported_months.last_output_date,
        reported_months.data_through_date,
        last_day(reported_months.month_date) <= reported_months.data_through_date
            as is_month_complete

    from reported_months
    left join enterprises
        on 'processing_output:' || reported_months.plant_code = enterprises.enterprise_id
    window year_to_date as (
        partition by
            reported_months.plant_code,
            reported_months.product_code,
            extract(year from reported_months.month_date)
        order by reported_months.month_date
        rows between unbounded preceding and current row
    )

)

select * from final
