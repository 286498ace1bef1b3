-- Campaign progress against the state order, by day, for every district, province and the
-- country. Ratios roll up by summing their numerators and denominators, never by averaging
-- percentages: a province's progress is its districts' tonnes over its districts' plans.
with

progress as (

    select * from {{ ref('fct_campaign_daily_progress') }}

),

regions as (

    select * from {{ ref('dim_regions') }}

),

{#- One aggregation per level of the hierarchy; every level sums the same numerators and
    denominators, so a province's ratio is never an average of its districts' ratios. -#}
{% set levels = [
    ('district', 'progress.district_code'),
    ('province', 'progress.province_code'),
    ('country', "'TM'"),
] %}

all_levels as (

    {% for level, region in levels %}
        select
            progress.campaign_id,
            '{{ level }}' as region_level,
            {{ region }} as region_id,
            progress.report_date,
            progress.unit,
            max(progress.planned_end_date) as planned_end_date,
            sum(progress.plan_amount) as plan_amount,
            sum(progress.cumulative_amount) as cumulative_amount,
            sum(progress.daily_amount) as daily_amount,
            sum(progress.cumulative_harvested_ha) as cumulative_harvested_ha,
            cast(sum(case when progress.is_report_expected then 1 else 0 end) as integer)
                as expected_reports,
            cast(sum(case when progress.is_reported then 1 else 0 end) as integer)
                as received_reports
        from progress
        group by
            progress.campaign_id,
            {{ region }},
            progress.report_date,
            progress.unit
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

paced as (

    select
        all_levels.*,
        greatest(all_levels.plan_amount - all_levels.cumulative_amount, 0) as remaining_amount,
        greatest(
            {{ days_between('all_levels.report_date', 'all_levels.planned_end_date') }}, 0
        ) as days_remaining,
        sum(all_levels.daily_amount) over (
            partition by all_levels.campaign_id, all_levels.region_id
            order by all_levels.report_date
            rows between {{ var('pace_window_days') - 1 }} preceding and current row
        ) / {{ var('pace_window_days') }} as pace_per_day

    from all_levels

),

final as (

    select
        paced.campaign_id || '|' || paced.region_id || '|' || cast(paced.report_date as string)
            as campaign_progress_id,
        paced.campaign_id,
        paced.region_level,
        paced.region_id,
        regions.parent_region_id,
        regions.name_tk as region_name_tk,
        regions.name_ru as region_name_ru,
        regions.name_en as region_name_en,
        paced.report_date,
        paced.unit,
        cast(paced.plan_amount as double) as plan_amount,
        cast(paced.cumulative_amount as double) as cumulative_amount,
        cast(paced.daily_amount as double) as daily_amount,
        round(100.0 * cast(paced.cumulative_amount as double) / nullif(paced.plan_amount, 0), 2)
            as progress_pct,
        cast(paced.remaining_amount as double) as remaining_amount,
        paced.planned_end_date,
        cast(paced.days_remaining as integer) as days_remaining,
        cast(case
            when paced.remaining_amount = 0 then 0
            when paced.days_remaining > 0 then paced.remaining_amount / paced.days_remaining
        end as double) as required_daily_rate,
        cast(paced.pace_per_day as double) as pace_per_day,
        case
            when paced.remaining_amount = 0 then paced.report_date
            when paced.pace_per_day > 0
                then {{ add_days(
                    'paced.report_date', 'ceil(paced.remaining_amount / paced.pace_per_day)'
                ) }}
        end as expected_finish_date,
        cast(case
            when paced.unit = 'tonnes'
                then paced.cumulative_amount / nullif(paced.cumulative_harvested_ha, 0)
        end as double) as yield_t_per_ha,
        paced.received_reports,
        paced.expected_reports

    from paced
    inner join regions
        on paced.region_id = regions.region_id

)

select * from final
