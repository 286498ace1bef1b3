-- Monthly output per plant and product beside three plans: the original (first version), the
-- version in force at the end of the month (approved by its last day) and the latest version.
with

outputs as (

    select * from {{ ref('fct_processing_output_monthly') }}

),

versions as (

    select * from {{ ref('int_processing_plan_versions') }}

),

{{ plan_choices(
    'versions', ['plant_code', 'product_code', 'month_date'], 'plan_version', 'month_date'
) }},

final as (

    select
        outputs.output_month_id,
        outputs.month_date,
        outputs.enterprise_id,
        outputs.product_id,
        outputs.plant_code,
        outputs.product_code,
        outputs.province_code,
        outputs.district_code,
        outputs.output_tonnes,
        original_plans.plan_tonnes as original_plan_tonnes,
        original_plans.plan_version as original_plan_version,
        in_force_plans.plan_tonnes as in_force_plan_tonnes,
        in_force_plans.plan_version as in_force_plan_version,
        in_force_plans.approved_date as in_force_approved_date,
        latest_plans.plan_tonnes as latest_plan_tonnes,
        latest_plans.plan_version as latest_plan_version,
        latest_plans.approved_date as latest_approved_date

    from outputs
    left join original_plans
        on
            outputs.plant_code = original_plans.plant_code
            and outputs.product_code = original_plans.product_code
            and outputs.month_date = original_plans.month_date
    left join in_force_plans
        on
            outputs.plant_code = in_force_plans.plant_code
            and outputs.product_code = in_force_plans.product_code
            and outputs.month_date = in_force_plans.month_date
    left join latest_plans
        on
            outputs.plant_code = latest_plans.plant_code
            and outputs.product_code = latest_plans.product_code
            and outputs.month_date = latest_plans.month_date

)

select * from final
