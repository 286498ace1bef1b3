with

source as (

    select * from {{ source('transport_statistics_api', 'plans') }}

),

renamed as (

    select
        cast(plan_id as string) || '@' || _batch_id as plan_version_id,
        plan_id as plan_record_id,
        cast(period || '-01' as date) as month_start_date,
        operator_code,
        cast(freight_tonnes_plan as decimal(18, 3)) as plan_freight_tonnes,
        cast(freight_tonne_km_plan as decimal(18, 3)) as plan_freight_tonne_km,
        cast(passengers_plan as decimal(18, 3)) as plan_passengers,
        cast(passenger_km_plan as decimal(18, 3)) as plan_passenger_km,
        revision as revision_number,
        approved_on as approved_date,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
