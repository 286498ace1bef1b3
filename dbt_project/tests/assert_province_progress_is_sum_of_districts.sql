-- A failure means a province's cumulative progress or plan is not the sum of its districts':
-- the roll-up lost or double-counted a district.
with

progress as (

    select * from {{ ref('ind_campaign_progress') }}

),

district_sums as (

    select
        progress.campaign_id,
        progress.parent_region_id as region_id,
        progress.report_date,
        sum(progress.cumulative_amount) as cumulative_amount,
        sum(progress.plan_amount) as plan_amount

    from progress
    where progress.region_level = 'district'
    group by progress.campaign_id, progress.parent_region_id, progress.report_date

)

select
    district_sums.*,
    progress.cumulative_amount as province_cumulative_amount,
    progress.plan_amount as province_plan_amount
from district_sums
inner join progress
    on
        district_sums.campaign_id = progress.campaign_id
        and district_sums.region_id = progress.region_id
        and district_sums.report_date = progress.report_date
where
    abs(district_sums.cumulative_amount - progress.cumulative_amount) > 0.001
    or abs(district_sums.plan_amount - progress.plan_amount) > 0.001
