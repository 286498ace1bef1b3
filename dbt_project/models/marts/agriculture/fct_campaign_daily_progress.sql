-- Campaign progress by district and day: one row for every district with a state order and every
-- day from the campaign's first start in any province up to its last reported day, whether or
-- not the district reported (a missing day counts zero and is flagged). A province whose campaign
-- starts later is there from the first day with nothing done, so that every level above a district
-- measures against the whole state order under it. The latest correction of each report wins;
-- the plan is the state order in force; the planned path runs linearly from the province's start
-- to its planned end.
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

campaign_starts as (

    select
        campaigns.campaign_id,
        min(campaigns.start_date) as campaign_start_date

    from campaigns
    group by campaigns.campaign_id

),

planned_districts as (

    select
        campaigns.campaign_id,
        campaigns.province_code,
        campaigns.unit,
        campaigns.start_date,
        campaigns.planned_end_date,
        campaigns.planned_days,
        campaign_starts.campaign_start_date,
        orders.district_code,
        case
            when campaigns.unit = 'ha' then orders.plan_area_ha
            else orders.plan_tonnes
        end as plan_amount,
        data_through.data_through_date

    from campaigns
    inner join data_through
        on campaigns.campaign_id = data_through.campaign_id
    inner join campaign_starts
        on campaigns.campaign_id = campaign_starts.campaign_id
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
            between planned_districts.campaign_start_date and planned_districts.data_through_date

),

joined as (

    select
        grid.campaign_id,
        grid.province_code,
        grid.district_code,
        grid.report_date,
        grid.unit,
        grid.campaign_start_date,
        grid.start_date,
        grid.planned_end_date,
        grid.planned_days,
        grid.data_through_date,
        grid.plan_amount,
        grid.report_date >= grid.start_date as has_started,
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

accumulated as (

    select
        joined.*,
        least(greatest(
            cast({{ days_between('joined.start_date', 'joined.report_date') }} + 1 as double)
            / cast(joined.planned_days as double),
            0
        ), 1) as planned_share_to_date,
        sum(joined.daily_amount) over (
            partition by joined.campaign_id, joined.district_code
            order by joined.report_date
            rows between unbounded preceding and current row
        ) as cumulative_amount,
        sum(joined.daily_harvested_ha) over (
            partition by joined.campaign_id, joined.district_code
            order by joined.report_date
            rows between unbounded preceding and current row
        ) as cumulative_harvested_ha

    from joined

),

final as (

    select
        accumulated.campaign_id
        || '|' || accumulated.district_code
        || '|' || cast(accumulated.report_date as string) as progress_id,
        accumulated.campaign_id,
        accumulated.province_code,
        accumulated.district_code,
        accumulated.report_date,
        accumulated.unit,
        accumulated.campaign_start_date,
        accumulated.start_date,
        accumulated.planned_end_date,
        accumulated.data_through_date,
        accumulated.has_started,
        accumulated.plan_amount,
        accumulated.daily_amount,
        accumulated.cumulative_amount,
        -- The district's own work left: a surplus elsewhere never makes up for it.
        greatest(accumulated.plan_amount - accumulated.cumulative_amount, 0) as remaining_amount,
        -- Where the plan says the district should be by the end of the day: a straight line from
        -- nothing on the day before the province's start to the whole order on its planned end.
        accumulated.planned_share_to_date,
        cast(accumulated.plan_amount * accumulated.planned_share_to_date as decimal(18, 3))
            as planned_to_date_amount,
        accumulated.daily_harvested_ha,
        accumulated.cumulative_harvested_ha,
        accumulated.is_reported,
        -- A district owes a report every day from its province's start to the planned end, and
        -- after it while it still reports; never once its plan was met by the day before.
        accumulated.has_started
        and coalesce(
            accumulated.cumulative_amount - accumulated.daily_amount < accumulated.plan_amount,
            true
        )
        and accumulated.report_date <= greatest(
            coalesce(accumulated.district_last_report_date, accumulated.data_through_date),
            least(accumulated.planned_end_date, accumulated.data_through_date)
        ) as is_report_expected,
        accumulated.correction_count,
        accumulated.report_id

    from accumulated

)

select * from final
