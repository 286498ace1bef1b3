-- Every district, every campaign day, beside the country: how many percentage points it is
-- behind, from the exact ratios (never from rounded percentages), and whether it lags: its
-- campaign has started and it is more than `lagging_threshold_pp` behind. A day or a province
-- with no lagging district still has its rows, so the count is 0 rather than missing.
with

progress as (

    select * from {{ ref('ind_campaign_progress') }}

),

districts as (

    select * from progress
    where region_level = 'district'

),

country as (

    select * from progress
    where region_level = 'country'

),

compared as (

    select
        districts.campaign_progress_id,
        districts.campaign_id,
        districts.report_date,
        districts.region_id as district_code,
        districts.parent_region_id as province_code,
        districts.region_name_tk as district_name_tk,
        districts.region_name_ru as district_name_ru,
        districts.region_name_en as district_name_en,
        districts.unit,
        districts.has_started,
        districts.plan_amount,
        districts.cumulative_amount,
        districts.progress_pct,
        country.progress_pct as country_progress_pct,
        100 * (
            country.cumulative_amount / nullif(country.plan_amount, 0)
            - districts.cumulative_amount / nullif(districts.plan_amount, 0)
        ) as gap_pp,
        districts.required_daily_rate,
        districts.pace_per_day,
        districts.expected_finish_date,
        districts.planned_end_date

    from districts
    inner join country
        on
            districts.campaign_id = country.campaign_id
            and districts.report_date = country.report_date

),

final as (

    select
        compared.*,
        coalesce(
            compared.has_started and compared.gap_pp > {{ var('lagging_threshold_pp') }}, false
        ) as is_lagging

    from compared

)

select * from final
