-- Each operator's monthly freight and passengers beside three plans: the original (revision 1,
-- when the warehouse received it), the revision in force at the end of the month (approved by
-- its last day) and the latest revision.
with

operator_months as (

    select * from {{ ref('fct_transport_operator_monthly') }}

),

versions as (

    select * from {{ ref('int_transport_plan_versions') }}

),

{{ plan_choices(
    'versions', ['operator_code', 'month_start_date'], 'revision_number', 'month_start_date'
) }},

final as (

    select
        operator_months.operator_month_id,
        operator_months.month_start_date,
        operator_months.enterprise_id,
        operator_months.operator_code,
        operator_months.is_reported,
        operator_months.actual_freight_tonne_km,
        operator_months.actual_passengers,
        original_plans.plan_freight_tonne_km as original_plan_freight_tonne_km,
        original_plans.plan_passengers as original_plan_passengers,
        in_force_plans.plan_freight_tonne_km as in_force_plan_freight_tonne_km,
        in_force_plans.plan_passengers as in_force_plan_passengers,
        in_force_plans.revision_number as in_force_revision_number,
        in_force_plans.approved_date as in_force_approved_date,
        latest_plans.plan_freight_tonne_km as latest_plan_freight_tonne_km,
        latest_plans.plan_passengers as latest_plan_passengers,
        latest_plans.revision_number as latest_revision_number

    from operator_months
    left join original_plans
        on
            operator_months.operator_code = original_plans.operator_code
            and operator_months.month_start_date = original_plans.month_start_date
    left join in_force_plans
        on
            operator_months.operator_code = in_force_plans.operator_code
            and operator_months.month_start_date = in_force_plans.month_start_date
    left join latest_plans
        on
            operator_months.operator_code = latest_plans.operator_code
            and operator_months.month_start_date = latest_plans.month_start_date

)

select * from final
