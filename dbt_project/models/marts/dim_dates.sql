-- Calendar days with the periods economists group by, the campaigns under way each day, and the
-- working calendar (weekends, public holidays and the days off they move to).
with

campaigns as (

    select * from {{ ref('dim_campaigns') }}

),

holidays as (

    select * from {{ ref('ref_public_holidays') }}

),

calendar_days as (

    {{ calendar_days() }}

),

campaign_days as (

    select
        calendar_days.calendar_date,
        {{ string_agg_sorted('campaigns.campaign_id', "', '", distinct=true) }}
            as active_campaigns

    from calendar_days
    inner join campaigns
        on calendar_days.calendar_date between campaigns.start_date and campaigns.planned_end_date
    group by calendar_days.calendar_date

),

calendar as (

    select
        calendar_days.calendar_date,
        extract(year from calendar_days.calendar_date) as calendar_year,
        extract(quarter from calendar_days.calendar_date) as calendar_quarter,
        extract(month from calendar_days.calendar_date) as calendar_month,
        {{ iso_day_of_week('calendar_days.calendar_date') }} as iso_day_of_week,
        cast(date_trunc('week', calendar_days.calendar_date) as date) as week_start_date,
        cast(date_trunc('month', calendar_days.calendar_date) as date) as month_start_date,
        cast(date_trunc('quarter', calendar_days.calendar_date) as date) as quarter_start_date,
        coalesce(campaign_days.active_campaigns is not null, false) as is_campaign_day,
        campaign_days.active_campaigns,
        holidays.holiday_date is not null as is_day_off_by_law,
        holidays.day_type as holiday_day_type,
        holidays.name_tk as holiday_name_tk,
        holidays.name_ru as holiday_name_ru,
        holidays.name_en as holiday_name_en,
        {{ iso_day_of_week('calendar_days.calendar_date') }} <= 5 and holidays.holiday_date is null
            as is_working_day

    from calendar_days
    left join campaign_days on calendar_days.calendar_date = campaign_days.calendar_date
    left join holidays on calendar_days.calendar_date = holidays.holiday_date

),

final as (

    select
        calendar.*,
        -- Working days between two dates = the difference of their numbers.
        cast(
            sum(case when calendar.is_working_day then 1 else 0 end)
                over (order by calendar.calendar_date)
            as integer
        ) as working_day_number

    from calendar

)

select * from final
