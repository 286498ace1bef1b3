-- Herd by district, species and month: the latest revision of each district's report wins.
-- A month a district did not report has no row (it is not zero head).
with

reports as (

    select * from {{ ref('stg_livestock__herd_reports') }}

),

districts as (

    select * from {{ ref('ref_districts') }}

),

latest_reports as (

    select
        reports.*,
        count(*) over (
            partition by reports.district_code, reports.species, reports.report_month_date
        ) - 1 as revision_count

    from reports
    qualify row_number() over (
            partition by reports.district_code, reports.species, reports.report_month_date
            order by reports.report_revision desc, reports.submitted_at desc
        ) = 1

),

final as (

    select
        latest_reports.district_code
        || '|' || latest_reports.species
        || '|' || {{ year_month('latest_reports.report_month_date') }} as herd_month_id,
        latest_reports.report_month_date as month_date,
        districts.province_code,
        latest_reports.district_code,
        latest_reports.species,
        latest_reports.head_count,
        latest_reports.births_head,
        latest_reports.losses_head,
        latest_reports.slaughtered_head,
        lag(latest_reports.head_count) over (
            partition by latest_reports.district_code, latest_reports.species
            order by latest_reports.report_month_date
        ) as previous_report_head_count,
        latest_reports.report_revision,
        latest_reports.revision_count,
        latest_reports.submitted_at,
        latest_reports.herd_report_id

    from latest_reports
    left join districts
        on latest_reports.district_code = districts.district_code

)

select * from final
