-- Every version of each operator's monthly plan that the warehouse received, with its approval
-- date. The statistics API serves only a plan's newest revision, so earlier revisions are known
-- only if they were extracted before being revised: a month whose first revision never arrived
-- has no original version here (is_original is false throughout) rather than a wrong one.
with

plans as (

    select * from {{ ref('stg_transport__monthly_plans') }}

),

-- A revision landed more than once (re-sent, or re-read after a failure) counts once.
versions as (

    select
        plans.operator_code,
        plans.month_start_date,
        plans.revision_number,
        cast(plans.approved_date as date) as approved_date,
        plans.plan_freight_tonnes,
        plans.plan_freight_tonne_km,
        plans.plan_passengers,
        plans.plan_passenger_km

    from plans
    qualify row_number() over (
            partition by plans.operator_code, plans.month_start_date, plans.revision_number
            order by plans.updated_at desc, plans.extracted_at desc
        ) = 1

),

final as (

    select
        versions.operator_code
        || '|' || cast(versions.month_start_date as string)
        || '|' || cast(versions.revision_number as string) as plan_version_id,
        'transport_statistics_api:' || versions.operator_code as enterprise_id,
        versions.operator_code,
        versions.month_start_date,
        versions.revision_number,
        versions.approved_date,
        versions.plan_freight_tonnes,
        versions.plan_freight_tonne_km,
        versions.plan_passengers,
        versions.plan_passenger_km,
        {{ plan_version_columns(
            'versions', ['operator_code', 'month_start_date'], 'revision_number', first_version=1
        ) }}

    from versions

)

select * from final
