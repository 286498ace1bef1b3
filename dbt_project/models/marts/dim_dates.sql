-- Calendar days with the periods economists group by, and the campaigns under way each day.
with

campaigns as (

    select * from {{ ref('dim_campaigns') }}

),

calendar_days as (

    {{ date_series("'2022-01-01'", "'2026-12-31'") }}

),

campaign_days as (

    select
        calendar_days.calendar_date,
        string_agg(distinct campaigns.campaign_id, ', ' order by campaigns.campaign_id)
            as active_campaigns

    from calendar_days
    inner join campaigns
        on calendar_days.calendar_date between campaigns.start_date and campaigns.planned_end_date
    group by calendar_days.calendar_date

),

final as (

    select
        calendar_days.calendar_date,
        extract(year from calendar_days.calendar_date) as calendar_year,
        extract(quarter from calendar_days.calendar_date) as calendar_quarter,
        extract(month from calendar_days.calendar_date) as calendar_month,
        extract(isodow from calendar_days.calendar_date) as iso_day_of_week,
        cast(date_trunc('week', calendar_days.calendar_date) as date) as week_start_date,
        cast(date_trunc('month', calendar_days.calendar_date) as date) as month_start_date,
        cast(date_trunc('quarter', calendar_days.calendar_date) as date) as quarter_start_date,
        coalesce(campaign_days.active_campaigns is not null, false) as is_campaign_day,
        campaign_days.active_campaigns

    from calendar_days
    left join campaign_days on calendar_days.calendar_date = campaign_days.calendar_date

)

select * from final
