-- Districts whose campaign progress is more than `lagging_threshold_pp` percentage points behind
-- the country's on the same day (exact ratios): the districts a government meeting names.
with

gaps as (

    select * from {{ ref('int_campaign_district_gaps') }}

),

final as (

    select
        gaps.campaign_progress_id,
        gaps.campaign_id,
        gaps.report_date,
        gaps.district_code,
        gaps.province_code,
        gaps.district_name_tk,
        gaps.district_name_ru,
        gaps.district_name_en,
        gaps.unit,
        gaps.plan_amount,
        gaps.cumulative_amount,
        gaps.progress_pct,
        gaps.country_progress_pct,
        gaps.gap_pp,
        gaps.required_daily_rate,
        gaps.pace_per_day,
        gaps.expected_finish_date,
        gaps.planned_end_date,
        row_number() over (
            partition by gaps.campaign_id, gaps.report_date
            order by gaps.gap_pp desc, gaps.district_code asc
        ) as lag_rank

    from gaps
    where gaps.is_lagging

)

select * from final
