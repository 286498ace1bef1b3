with

source as (

    select * from {{ source('agriculture_campaign', 'farms') }}

),

renamed as (

    select
        farm_id,
        district_code,
        farm_name,
        farm_type,
        established_on as established_date,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
