with

source as (

    select * from {{ source('transport_statistics_api', 'routes') }}

),

renamed as (

    select
        route_code,
        operator_code,
        mode as transport_mode,
        name_tk as route_name_tk,
        name_en as route_name_en,
        province_code,
        destination as destination_name,
        is_international,
        cast(length_km as decimal(18, 3)) as route_length_km,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
