with

source as (

    select * from {{ source('construction_projects', 'contractors') }}

),

renamed as (

    select
        contractor_id,
        contractor_name,
        ownership,
        supervising_ministry,
        district_code,
        country_code,
        registered_on as registered_date,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
