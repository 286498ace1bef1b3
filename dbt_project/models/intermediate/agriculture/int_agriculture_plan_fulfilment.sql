-- Campaign progress by district and day beside three state orders: the original annual order
-- (first version), the version in force on the day (approved by then) and the latest revision.
with

progress as (

    select * from {{ ref('fct_campaign_daily_progress') }}

),

campaigns as (

    select * from {{ ref('dim_campaigns') }}

),

versions as (

    select * from {{ ref('int_agriculture_plan_versions') }}

),

progress_orders as (

    select
        progress.progress_id,
        progress.campaign_id,
        progress.province_code,
        progress.district_code,
        progress.report_date,
        progress.unit,
        progress.cumulative_amount,
        progress.planned_share_to_date,
        campaigns.crop,
        campaigns.order_year

    from progress
    inner join campaigns
        on
            progress.campaign_id = campaigns.campaign_id
            and progress.province_code = campaigns.province_code

),

-- A state order covers tonnes for a harvest and hectares for a sowing campaign.
version_amounts as (

    select
        progress_orders.progress_id,
        versions.order_version,
        versions.approved_date,
        versions.is_original,
        versions.is_latest,
        case
            when progress_orders.unit = 'ha' then versions.plan_area_ha
            else versions.plan_tonnes
        end as plan_amount

    from progress_orders
    inner join versions
        on
            progress_orders.order_year = versions.order_year
            and progress_orders.crop = versions.crop
            and progress_orders.district_code = versions.district_code

),

per_progress as (

    select
        version_amounts.progress_id,
        max(version_amounts.plan_amount) filter (where version_amounts.is_original)
            as original_plan_amount,
        min(version_amounts.order_version) as original_order_version,
        max(version_amounts.plan_amount) filter (where version_amounts.is_latest)
            as latest_plan_amount,
        max(version_amounts.order_version) as latest_order_version,
        max_by(version_amounts.plan_amount, version_amounts.order_version) filter (
            where version_amounts.approved_date <= progress_orders.report_date
        ) as in_force_plan_amount,
        max(version_amounts.order_version) filter (
            where version_amounts.approved_date <= progress_orders.report_date
        ) as in_force_order_version

    from version_amounts
    inner join progress_orders
        on version_amounts.progress_id = progress_orders.progress_id
    group by version_amounts.progress_id

),

final as (

    select
        progress_orders.progress_id,
        progress_orders.campaign_id,
        progress_orders.province_code,
        progress_orders.district_code,
        progress_orders.report_date,
        progress_orders.unit,
        progress_orders.cumulative_amount,
        cast(per_progress.original_plan_amount as decimal(18, 3)) as original_plan_amount,
        per_progress.original_order_version,
        cast(per_progress.in_force_plan_amount as decimal(18, 3)) as in_force_plan_amount,
        per_progress.in_force_order_version,
        cast(per_progress.latest_plan_amount as decimal(18, 3)) as latest_plan_amount,
        per_progress.latest_order_version,
        -- Each version's planned path: the share of the campaign's days gone by that day.
        cast(
            per_progress.original_plan_amount * progress_orders.planned_share_to_date
            as decimal(18, 3)
        ) as original_planned_to_date_amount,
        cast(
            per_progress.in_force_plan_amount * progress_orders.planned_share_to_date
            as decimal(18, 3)
        ) as in_force_planned_to_date_amount,
        cast(
            per_progress.latest_plan_amount * progress_orders.planned_share_to_date
            as decimal(18, 3)
        ) as latest_planned_to_date_amount

    from progress_orders
    left join per_progress
        on progress_orders.progress_id = per_progress.progress_id

)

select * from final
