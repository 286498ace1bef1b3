with

source as (

    select * from {{ source('processing_output', 'plants') }}

),

renamed as (

    select
        plant_code,
        plant_name,
        plant_type,
        owner as owner_name,
        district_code,
        cast(capacity_tonnes_per_day as decimal(18, 3)) as capacity_tonnes_per_day,
        commissioned_on as commissioned_date,
        is_active = 1 as is_active,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
