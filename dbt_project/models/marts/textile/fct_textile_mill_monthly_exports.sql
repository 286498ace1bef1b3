-- Export value of each mill by month against its export plan: the plan is the newest version
-- approved by the month's end (a later revision does not rewrite a closed month), the value the
-- sum over the mill's products of the latest submitted figures. A month with a plan and no
-- report yet has its plan and no value (is_reported false).
with

outputs as (

    select * from {{ ref('fct_textile_mill_monthly_output') }}

),

plans as (

    select * from {{ ref('stg_textile__export_plans') }}

),

plans_in_force as (

    select plans.*
    from plans
    where plans.approved_date <= last_day(plans.plan_month)
    qualify row_number() over (
            partition by plans.enterprise_id, plans.plan_month
            order by plans.approved_date desc, plans.batch_id desc, plans.batch_row_number desc
        ) = 1

),

mill_months as (

    select
        outputs.enterprise_id,
        outputs.report_month,
        sum(outputs.export_value_tmt) as export_value_tmt,
        count(*) as product_count

    from outputs
    group by outputs.enterprise_id, outputs.report_month

),

joined as (

    select
        coalesce(mill_months.enterprise_id, plans_in_force.enterprise_id) as enterprise_id,
        coalesce(mill_months.report_month, plans_in_force.plan_month) as report_month,
        mill_months.export_value_tmt,
        plans_in_force.export_value_plan_tmt,
        plans_in_force.approved_date as plan_approved_date,
        coalesce(mill_months.product_count, 0) as reported_product_count

    from mill_months
    full outer join plans_in_force
        on
            mill_months.enterprise_id = plans_in_force.enterprise_id
            and mill_months.report_month = plans_in_force.plan_month

),

-- Only months the mills have reported up to: a plan for a month still ahead is not yet due.
reported_through as (

    select max(mill_months.report_month) as last_report_month
    from mill_months

),

final as (

    select
        joined.enterprise_id || '|' || cast(joined.report_month as string)
            as mill_export_month_id,
        joined.report_month,
        joined.enterprise_id,
        cast(joined.export_value_tmt as decimal(18, 3)) as export_value_tmt,
        cast(joined.export_value_plan_tmt as decimal(18, 3)) as export_value_plan_tmt,
        joined.plan_approved_date,
        joined.reported_product_count,
        joined.reported_product_count > 0 as is_reported

    from joined
    cross join reported_through
    where joined.report_month <= reported_through.last_report_month

)

select * from final
