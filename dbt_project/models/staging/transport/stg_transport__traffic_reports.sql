with

source as (

    select * from {{ source('transport_statistics_api', 'traffic') }}

),

renamed as (

    select
        cast(record_id as string) || '@' || _batch_id as traffic_report_version_id,
        record_id as traffic_record_id,
        cast(period || '-01' as date) as month_start_date,
        operator_code,
        route_code,
        mode as transport_mode,
        cast(freight_tonnes as decimal(18, 3)) as freight_tonnes,
        cast(freight_tonne_km as decimal(18, 3)) as freight_tonne_km,
        cast(passengers as decimal(18, 3)) as passengers,
        cast(passenger_km as decimal(18, 3)) as passenger_km,
        revision as revision_number,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
