with

source as (

    select * from {{ source('agriculture_campaign', 'state_orders') }}

),

renamed as (

    select
        order_id as state_order_id,
        order_year,
        crop,
        district_code,
        cast(plan_tonnes as decimal(18, 3)) as plan_tonnes,
        cast(plan_area_ha as decimal(18, 3)) as plan_area_ha,
        version as order_version,
        approved_on as approved_date,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
