with

source as (

    select * from {{ source('fuel_energy_production', 'daily_production') }}

),

renamed as (

    select
        _batch_id || ':' || cast(_row_number as string) as daily_report_id,
        report_date,
        'fuel_energy_production:' || enterprise_code as enterprise_id,
        enterprise_code,
        product_code,
        cast(quantity as decimal(18, 3)) as quantity,
        transmitted_at,
        _batch_id as batch_id,
        _row_number as batch_row_number,
        _extracted_at as extracted_at

    from source

)

select * from renamed
