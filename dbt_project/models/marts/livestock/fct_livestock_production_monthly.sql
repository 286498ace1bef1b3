-- Livestock production by district and month, one column per product in its unit. The latest
-- revision of each district's report line wins. A product a district did not report that month
-- is null (no shearing outside the seasons: wool is null, not zero); a month a district did not
-- report at all has no row.
with

reports as (

    select * from {{ ref('stg_livestock__production_reports') }}

),

districts as (

    select * from {{ ref('ref_districts') }}

),

latest_reports as (

    select
        reports.*,
        count(*) over (
            partition by reports.district_code, reports.product_code, reports.report_month_date
        ) > 1 as is_revised

    from reports
    qualify row_number() over (
            partition by reports.district_code, reports.product_code, reports.report_month_date
            order by reports.report_revision desc, reports.submitted_at desc
        ) = 1

),

pivoted as (

    select
        latest_reports.district_code,
        latest_reports.report_month_date,
        sum(case when latest_reports.product_code = 'MEAT' then latest_reports.quantity end)
            as meat_tonnes,
        sum(case when latest_reports.product_code = 'MILK' then latest_reports.quantity end)
            as milk_tonnes,
        sum(case when latest_reports.product_code = 'WOOL' then latest_reports.quantity end)
            as wool_tonnes,
        sum(case when latest_reports.product_code = 'EGGS' then latest_reports.quantity end)
            as eggs_thousand,
        count(*) filter (where latest_reports.is_revised) as revised_line_count,
        max(latest_reports.submitted_at) as last_submitted_at

    from latest_reports
    group by latest_reports.district_code, latest_reports.report_month_date

),

final as (

    select
        pivoted.district_code
        || '|' || {{ year_month('pivoted.report_month_date') }} as production_month_id,
        pivoted.report_month_date as month_date,
        districts.province_code,
        pivoted.district_code,
        cast(pivoted.meat_tonnes as decimal(18, 3)) as meat_tonnes,
        cast(pivoted.milk_tonnes as decimal(18, 3)) as milk_tonnes,
        cast(pivoted.wool_tonnes as decimal(18, 3)) as wool_tonnes,
        cast(pivoted.eggs_thousand as decimal(18, 3)) as eggs_thousand,
        pivoted.revised_line_count,
        pivoted.last_submitted_at

    from pivoted
    left join districts
        on pivoted.district_code = districts.district_code

)

select * from final
