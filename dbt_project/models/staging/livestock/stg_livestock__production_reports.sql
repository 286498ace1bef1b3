with

source as (

    select * from {{ source('livestock_census', 'production_reports') }}

),

renamed as (

    select
        report_id as production_report_id,
        district_code,
        report_month as report_month_date,
        product_code,
        cast(quantity as decimal(18, 3)) as quantity,
        revision as report_revision,
        submitted_by,
        submitted_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
