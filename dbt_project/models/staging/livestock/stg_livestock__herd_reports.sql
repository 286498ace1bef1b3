with

source as (

    select * from {{ source('livestock_census', 'herd_reports') }}

),

renamed as (

    select
        report_id as herd_report_id,
        district_code,
        report_month as report_month_date,
        species,
        head_count,
        births as births_head,
        losses as losses_head,
        slaughtered as slaughtered_head,
        revision as report_revision,
        submitted_by,
        submitted_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
