-- Campaign progress by district and day: one row for every day of the campaign up to the last
-- reported day, whether or not the district reported (a missing day counts zero and is flagged).
-- The latest correction of each report wins; the plan is the state order in force.
with

reports as (

    select * from {{ ref('int_campaign_reports_deduplicated') }}

),

orders as (

    select * from {{ ref('int_state_orders_in_force') }}

),

campaigns as (

    select * from {{ ref('dim_campaigns') }}

),

regions as (

    select * from {{ ref('dim_regions') }}

),

calendar_days as (

    {{ calendar_days() }}

),

campaign_reports as (

    select
        campaigns.campaign_id,
        reports.district_code,
        reports.report_date,
        reports.report_id,
        reports.correction_count,
        case
            when campaigns.unit = 'ha' then reports.sown_ha
            else reports.harvested_tonnes
        end as daily_amount,
        reports.harvested_ha

    from reports
    inner join regions
        on reports.district_code = regions.region_id
    inner join campaigns
        on
            regions.province_code = campaigns.province_code
            and reports.crop = campaigns.crop
            and reports.operation = campaigns.operation
            and reports.report_date >= campaigns.start_date
            and extract(year from reports.report_date) = extract(year from campaigns.start_date)

),

data_through as (

    select
        campaign_reports.campaign_id,
        max(campaign_reports.report_date) as data_through_date

    from campaign_reports
    group by campaign_reports.campaign_id

),

planned_districts as (

    select
        campaigns.campaign_id,
        campaigns.province_code,
        campaigns.unit,
        campaigns.start_date,
        campaigns.planned_end_date,
        orders.district_code,
        case
            when campaigns.unit = 'ha' then orders.plan_area_ha
            else orders.plan_tonnes
        end as plan_amount,
        data_through.data_through_date

    from campaigns
    inner join data_through
        on campaigns.campaign_id = data_through.campaign_id
    inner join regions
        on
            campaigns.province_code = regions.province_code
            and regions.region_level = 'district'
    inner join orders
        on
            regions.district_code = orders.district_code
            and campaigns.crop = orders.crop
            and campaigns.order_year = orders.order_year

),

grid as (

    select
        planned_districts.*,
        calendar_days.calendar_date as report_date

    from planned_districts
    inner join calendar_days
        on
            calendar_days.calendar_date
            between planned_districts.start_date and planned_districts.data_through_date

),

joined as (

    select
        grid.campaign_id,
        grid.province_code,
        grid.district_code,
        grid.report_date,
        grid.unit,
        grid.start_date,
        grid.planned_end_date,
        grid.data_through_date,
        grid.plan_amount,
        campaign_reports.report_id,
        coalesce(campaign_reports.daily_amount, 0) as daily_amount,
        coalesce(campaign_reports.harvested_ha, 0) as daily_harvested_ha,
        coalesce(campaign_reports.correction_count, 0) as correction_count,
        campaign_reports.report_id is not null as is_reported,
        max(campaign_reports.report_date) over (
            partition by grid.campaign_id, grid.district_code
        ) as district_last_report_date

    from grid
    left join campaign_reports
        on
            grid.campaign_id = campaign_reports.campaign_id
            and grid.district_code = campaign_reports.district_code
            and grid.report_date = campaign_reports.report_date

),

final as (

    select
        joined.campaign_id
        || '|' || joined.district_code
        || '|' || cast(joined.report_date as string) as progress_id,
        joined.campaign_id,
        joined.province_code,
        joined.district_code,
        joined.report_date,
        joined.unit,
        joined.start_date,
        joined.planned_end_date,
        joined.data_through_date,
        joined.plan_amount,
        joined.daily_amount,
        sum(joined.daily_amount) over (
            partition by joined.campaign_id, joined.district_code
            order by joined.report_date
            rows between unbounded preceding and current row
        ) as cumulative_amount,
        joined.daily_harvested_ha,
        sum(joined.daily_harvested_ha) over (
            partition by joined.campaign_id, joined.district_code
            order by joined.report_date
            rows between unbounded preceding and current row
        ) as cumulative_harvested_ha,
        joined.is_reported,
        -- Every district reports daily until the planned end; after it, those still reporting.
        joined.report_date <= greatest(
            coalesce(joined.district_last_report_date, joined.data_through_date),
            least(joined.planned_end_date, joined.data_through_date)
        ) as is_report_expected,
        joined.correction_count,
        joined.report_id

    from joined

)

select * from final
