-- One report per district, crop, operation and day: the latest submission wins, so a district's
-- corrected figure replaces the one it first sent. Earlier versions stay in staging.
with

reports as (

    select * from {{ ref('stg_agriculture__daily_reports') }}

),

ranked as (

    select
        reports.*,
        row_number() over (
            partition by
                reports.district_code,
                reports.crop,
                reports.operation,
                reports.report_date
            order by reports.submitted_at desc, reports.report_id desc
        ) as version_rank,
        count(*) over (
            partition by
                reports.district_code,
                reports.crop,
                reports.operation,
                reports.report_date
        ) as submission_count

    from reports

),

final as (

    select
        report_id,
        district_code,
        crop,
        operation,
        report_date,
        sown_ha,
        harvested_ha,
        harvested_tonnes,
        submitted_at,
        submission_count - 1 as correction_count,
        batch_id

    from ranked
    where version_rank = 1

)

select * from final
