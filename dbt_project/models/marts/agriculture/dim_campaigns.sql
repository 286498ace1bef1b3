-- Sowing and harvest campaigns by province: when each starts and when it is planned to end.
with

calendar as (

    select * from {{ ref('campaign_calendar') }}

),

final as (

    select
        calendar.campaign_id || '|' || calendar.province_code as campaign_province_id,
        calendar.campaign_id,
        calendar.province_code,
        calendar.crop,
        calendar.operation,
        calendar.order_year,
        calendar.measure as unit,
        calendar.start_date,
        calendar.planned_end_date,
        {{ days_between('calendar.start_date', 'calendar.planned_end_date') }} + 1 as planned_days

    from calendar

)

select * from final
