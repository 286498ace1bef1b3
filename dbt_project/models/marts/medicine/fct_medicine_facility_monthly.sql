-- Every facility for every reported month, whether it reported or not: beds, bed-days, visits
-- and admissions from the latest version of the month's report, and whether the facility
-- submitted by the 5th of the next month (the ministry's deadline). A month's report sent
-- again (corrected, or with a late facility caught up) replaces the first.
with

reports as (

    select * from {{ ref('stg_medicine__facility_reports') }}

),

facilities as (

    select * from {{ ref('stg_medicine__enterprises') }}

),

latest as (

    select
        reports.*,
        count(*) over (
            partition by reports.report_month, reports.facility_code
        ) - 1 as correction_count

    from reports
    qualify
        row_number() over (
            partition by reports.report_month, reports.facility_code
            order by
                reports.compiled_date desc,
                reports.batch_id desc,
                reports.batch_row_number desc
        ) = 1

),

reported_months as (

    select distinct latest.report_month from latest

),

-- Facilities of the register and any that reported without being in it (the relationship
-- test then names them).
facility_ids as (

    select facilities.enterprise_id from facilities
    union
    select latest.enterprise_id from latest

),

grid as (

    select
        facility_ids.enterprise_id,
        reported_months.report_month

    from facility_ids
    cross join reported_months

),

final as (

    select
        grid.enterprise_id || '|' || cast(grid.report_month as string) as facility_month_id,
        grid.report_month,
        grid.enterprise_id,
        latest.facility_report_id is not null as is_reported,
        coalesce(
            latest.submitted_date <= {{ add_days('last_day(grid.report_month)', 5) }}, false
        ) as is_submitted_on_time,
        latest.submitted_date,
        latest.beds,
        latest.bed_days_used,
        latest.beds * cast(date_part('day', last_day(grid.report_month)) as integer)
            as bed_days_available,
        latest.outpatient_visits,
        latest.inpatient_admissions,
        cast(coalesce(latest.correction_count, 0) as integer) as correction_count

    from grid
    left join latest
        on
            grid.enterprise_id = latest.enterprise_id
            and grid.report_month = latest.report_month

)

select * from final
