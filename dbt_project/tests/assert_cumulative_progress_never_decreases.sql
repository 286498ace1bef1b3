-- A failure means a district's cumulative campaign progress went down from one day to the next:
-- a negative daily amount got past the quality gate.
with

progress as (

    select * from {{ ref('fct_campaign_daily_progress') }}

),

with_previous as (

    select
        progress.*,
        lag(progress.cumulative_amount) over (
            partition by progress.campaign_id, progress.district_code
            order by progress.report_date
        ) as previous_cumulative_amount

    from progress

)

select * from with_previous
where cumulative_amount < previous_cumulative_amount
