with

source as (

    select * from {{ source('textile_mill_output', 'mill_output') }}

),

renamed as (

    select
        _batch_id || ':' || cast(_row_number as string) as output_report_id,
        cast(report_month || '-01' as date) as report_month,
        'textile_mill_output:' || mill_code as enterprise_id,
        mill_code,
        'textile_mill_output:' || product_code as product_id,
        product_code,
        cast(planned_quantity as decimal(18, 3)) as planned_quantity,
        cast(produced_quantity as decimal(18, 3)) as produced_quantity,
        cast(exported_quantity as decimal(18, 3)) as exported_quantity,
        cast(export_value_tmt as decimal(18, 3)) as export_value_tmt,
        submitted_at,
        _batch_id as batch_id,
        _row_number as batch_row_number,
        _extracted_at as extracted_at

    from source

)

select * from renamed
