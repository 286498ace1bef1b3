with

source as (

    select * from {{ source('telecom_statistics_api', 'operators') }}

),

renamed as (

    select
        operator_code,
        name_tk as operator_name_tk,
        name_ru as operator_name_ru,
        name_en as operator_name_en,
        network as network_type,
        province_code,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
