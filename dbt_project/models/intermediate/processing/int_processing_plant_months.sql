-- Each plant and month in which it had a plan or reported output: the plant's reporting
-- obligation. Processing is seasonal (gins work from the harvest to late winter), so a plant
-- owes a report for the months its latest plan gives it work, and whenever it produced.
with

plan_versions as (

    select * from {{ ref('int_processing_plan_versions') }}

),

outputs as (

    select * from {{ ref('fct_processing_output_monthly') }}

),

planned as (

    select
        plan_versions.enterprise_id,
        plan_versions.month_date,
        sum(plan_versions.plan_tonnes) as plan_tonnes

    from plan_versions
    where plan_versions.is_latest
    group by plan_versions.enterprise_id, plan_versions.month_date

),

produced as (

    select
        outputs.enterprise_id,
        outputs.month_date,
        max(outputs.province_code) as province_code,
        max(outputs.district_code) as district_code,
        max(outputs.days_reported) as days_reported

    from outputs
    group by outputs.enterprise_id, outputs.month_date

),

final as (

    select
        coalesce(planned.enterprise_id, produced.enterprise_id)
        || '|' || cast(coalesce(planned.month_date, produced.month_date) as string)
            as plant_month_id,
        coalesce(planned.enterprise_id, produced.enterprise_id) as enterprise_id,
        coalesce(planned.month_date, produced.month_date) as month_date,
        produced.province_code,
        produced.district_code,
        coalesce(planned.plan_tonnes, 0) as plan_tonnes,
        coalesce(produced.days_reported, 0) as days_reported,
        coalesce(planned.plan_tonnes, 0) > 0 as has_plan

    from planned
    full outer join produced
        on
            planned.enterprise_id = produced.enterprise_id
            and planned.month_date = produced.month_date

)

select * from final
