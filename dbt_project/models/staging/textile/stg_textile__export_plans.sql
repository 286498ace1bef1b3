with

source as (

    select * from {{ source('textile_mill_output', 'export_plans') }}

),

renamed as (

    select
        _batch_id || ':' || cast(_row_number as string) as export_plan_row_id,
        cast(plan_month || '-01' as date) as plan_month,
        'textile_mill_output:' || mill_code as enterprise_id,
        mill_code,
        cast(export_value_plan_tmt as decimal(18, 3)) as export_value_plan_tmt,
        cast(approved_on as date) as approved_date,
        _batch_id as batch_id,
        _row_number as batch_row_number,
        _extracted_at as extracted_at

    from source

)

select * from renamed
