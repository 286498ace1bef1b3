with

source as (

    select * from {{ source('agriculture_campaign', 'daily_reports') }}

),

renamed as (

    select
        report_id,
        district_code,
        crop,
        operation,
        report_date,
        cast(sown_ha as decimal(18, 3)) as sown_ha,
        cast(harvested_ha as decimal(18, 3)) as harvested_ha,
        cast(harvested_tonnes as decimal(18, 3)) as harvested_tonnes,
        reported_by,
        submitted_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
