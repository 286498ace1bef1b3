-- Plan against actual per operator and month. The actual is the sum of the operator's routes
-- (latest corrections); the plan is the latest revision. A planned month not yet reported has
-- its plan and no actual (is_reported false).
with

route_months as (

    select * from {{ ref('fct_transport_route_monthly') }}

),

plans as (

    select * from {{ ref('stg_transport__monthly_plans') }}

),

ranked_plans as (

    select
        plans.*,
        row_number() over (
            partition by plans.operator_code, plans.month_start_date
            order by plans.updated_at desc, plans.revision_number desc, plans.extracted_at desc
        ) as version_rank

    from plans

),

latest_plans as (

    select * from ranked_plans
    where version_rank = 1

),

actuals as (

    select
        route_months.operator_code,
        route_months.month_start_date,
        sum(route_months.freight_tonnes) as freight_tonnes,
        sum(route_months.freight_tonne_km) as freight_tonne_km,
        sum(route_months.passengers) as passengers,
        sum(route_months.passenger_km) as passenger_km,
        count(*) as reported_route_count

    from route_months
    group by route_months.operator_code, route_months.month_start_date

),

joined as (

    select
        coalesce(latest_plans.operator_code, actuals.operator_code) as operator_code,
        coalesce(latest_plans.month_start_date, actuals.month_start_date) as month_start_date,
        latest_plans.plan_freight_tonnes,
        actuals.freight_tonnes as actual_freight_tonnes,
        latest_plans.plan_freight_tonne_km,
        actuals.freight_tonne_km as actual_freight_tonne_km,
        latest_plans.plan_passengers,
        actuals.passengers as actual_passengers,
        latest_plans.plan_passenger_km,
        actuals.passenger_km as actual_passenger_km,
        latest_plans.revision_number as plan_revision_number,
        coalesce(actuals.reported_route_count, 0) as reported_route_count

    from latest_plans
    full outer join actuals
        on
            latest_plans.operator_code = actuals.operator_code
            and latest_plans.month_start_date = actuals.month_start_date

),

final as (

    select
        joined.operator_code
        || '|' || cast(joined.month_start_date as string) as operator_month_id,
        joined.month_start_date,
        cast('transport_statistics_api:' || joined.operator_code as string) as enterprise_id,
        joined.operator_code,
        cast(joined.plan_freight_tonnes as decimal(18, 3)) as plan_freight_tonnes,
        cast(joined.actual_freight_tonnes as decimal(18, 3)) as actual_freight_tonnes,
        cast(joined.plan_freight_tonne_km as decimal(18, 3)) as plan_freight_tonne_km,
        cast(joined.actual_freight_tonne_km as decimal(18, 3)) as actual_freight_tonne_km,
        cast(joined.plan_passengers as decimal(18, 3)) as plan_passengers,
        cast(joined.actual_passengers as decimal(18, 3)) as actual_passengers,
        cast(joined.plan_passenger_km as decimal(18, 3)) as plan_passenger_km,
        cast(joined.actual_passenger_km as decimal(18, 3)) as actual_passenger_km,
        joined.plan_revision_number,
        joined.reported_route_count,
        joined.reported_route_count > 0 as is_reported

    from joined

)

select * from final
