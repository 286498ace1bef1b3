-- Districts whose campaign progress is more than `lagging_threshold_pp` percentage points behind
-- the country's on the same day: the districts a government meeting names.
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
        districts.plan_amount,
        districts.cumulative_amount,
        districts.progress_pct,
        country.progress_pct as country_progress_pct,
        round(country.progress_pct - districts.progress_pct, 2) as gap_pp,
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
        row_number() over (
            partition by compared.campaign_id, compared.report_date
            order by compared.gap_pp desc, compared.district_code asc
        ) as lag_rank

    from compared
    where compared.gap_pp > {{ var('lagging_threshold_pp') }}

)

select * from final
