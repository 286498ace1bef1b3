with

source as (

    select * from {{ source('processing_output', 'daily_output') }}

),

renamed as (

    select
        record_id as output_record_id,
        plant_code,
        product_code,
        output_date,
        cast(quantity_tonnes as decimal(18, 3)) as output_tonnes,
        corrects_record_id as corrects_output_record_id,
        entered_by,
        entered_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
