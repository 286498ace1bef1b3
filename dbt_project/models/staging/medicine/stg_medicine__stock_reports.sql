with

source as (

    select * from {{ source('medicine_facility_reports', 'medicine_stock') }}

),

renamed as (

    select
        _batch_id || ':' || cast(_row_number as string) as stock_report_id,
        cast(report_month || '-01' as date) as report_month,
        compiled_on as compiled_date,
        'medicine_facility_reports:' || facility_code as enterprise_id,
        facility_code,
        'medicine_facility_reports:' || medicine_code as product_id,
        medicine_code,
        medicine_name,
        unit as report_unit,
        cast(opening_stock as decimal(18, 3)) as opening_stock,
        cast(received as decimal(18, 3)) as received,
        cast(consumed as decimal(18, 3)) as consumed,
        cast(closing_stock as decimal(18, 3)) as closing_stock,
        _batch_id as batch_id,
        _row_number as batch_row_number,
        _extracted_at as extracted_at

    from source

)

select * from renamed
