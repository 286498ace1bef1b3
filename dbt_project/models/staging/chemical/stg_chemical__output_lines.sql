with

source as (

    select * from {{ source('chemical_monthly_form', 'monthly_output') }}

),

renamed as (

    select
        _batch_id || ':' || cast(_row_number as string) as output_line_id,
        cast(report_month || '-01' as date) as report_month,
        compiled_on as compiled_date,
        line_number as form_line_number,
        'chemical_monthly_form:' || enterprise_code as enterprise_id,
        enterprise_code,
        enterprise_name,
        'chemical_monthly_form:' || product_code as product_id,
        product_code,
        product_name,
        unit as form_unit,
        cast(plan_tonnes as decimal(18, 3)) as plan_tonnes,
        cast(actual_tonnes as decimal(18, 3)) as actual_tonnes,
        cast(sold_domestic_tonnes as decimal(18, 3)) as sold_domestic_tonnes,
        cast(exported_tonnes as decimal(18, 3)) as exported_tonnes,
        _batch_id as batch_id,
        _row_number as batch_row_number,
        _extracted_at as extracted_at

    from source

)

select * from renamed
