with

source as (

    select * from {{ source('construction_projects', 'progress_reports') }}

),

renamed as (

    select
        report_id as progress_report_id,
        project_id,
        report_month as report_month_date,
        revision as report_revision,
        cast(completion_pct as decimal(18, 3)) as completion_pct,
        cast(spent_to_date_tmt as decimal(18, 3)) as spent_to_date_tmt,
        workers_on_site,
        submitted_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
