-- Campaign progress against the state order, by day, for every district, province and the
-- country. Ratios roll up by summing their numerators and denominators, never by averaging
-- percentages: a province's progress is its districts' tonnes over its districts' plans, all of
-- them, whether or not their campaign has started. The work left at a level is the sum of each
-- district's own work left (one district's surplus never covers another's shortfall), and the
-- level is judged against the planned path: where the plan says it should be by that day.
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
            min(progress.start_date) as start_date,
            sum(progress.plan_amount) as plan_amount,
            sum(progress.cumulative_amount) as cumulative_amount,
            sum(progress.remaining_amount) as remaining_sum,
            sum(progress.planned_to_date_amount) as planned_to_date_amount,
            bool_or(progress.has_started) as has_started,
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

    {#- The sums above are exact decimals on both engines. Everything divided below is cast to
        double first: DuckDB divides decimals as doubles, Spark as decimals of six places, so
        only doubles give both engines the same quotients (and the same rounding of them). -#}
    select
        all_levels.*,
        cast(all_levels.remaining_sum as double) as remaining_amount,
        {{ days_between('all_levels.report_date', 'all_levels.planned_end_date') }}
            as days_to_planned_end,
        cast(sum(all_levels.daily_amount) over (
            partition by all_levels.campaign_id, all_levels.region_id
            order by all_levels.report_date
            rows between {{ var('pace_window_days') - 1 }} preceding and current row
        ) as double) / cast({{ var('pace_window_days') }} as double) as pace_per_day

    from all_levels

),

{#- The expected finish is only meaningful this far past the planned end: beyond it (a pace
    near zero puts it centuries away) it is null, like a pace of zero. #}
{% set expected_finish_horizon_days = 365 %}

finishing as (

    select
        paced.*,
        greatest(paced.days_to_planned_end, 0) as days_remaining,
        {#- Whole days to the plan at the current pace: the double quotient, rounded up. #}
        case
            when paced.pace_per_day > 0
                then ceil(paced.remaining_amount / paced.pace_per_day)
        end as days_to_finish

    from paced

),

final as (

    select
        finishing.campaign_id || '|' || finishing.region_id || '|'
        || cast(finishing.report_date as string) as campaign_progress_id,
        finishing.campaign_id,
        finishing.region_level,
        finishing.region_id,
        regions.parent_region_id,
        regions.name_tk as region_name_tk,
        regions.name_ru as region_name_ru,
        regions.name_en as region_name_en,
        finishing.report_date,
        finishing.unit,
        finishing.has_started,
        cast(finishing.plan_amount as double) as plan_amount,
        cast(finishing.cumulative_amount as double) as cumulative_amount,
        cast(finishing.daily_amount as double) as daily_amount,
        {#- Two decimals, half up, by hand: round() of a double differs between the engines
            (DuckDB rounds the binary value, Spark its shortest decimal spelling). #}
        cast(floor(
            100 * cast(finishing.cumulative_amount as double)
            / nullif(cast(finishing.plan_amount as double), 0) * 100 + 0.5
        ) as double) / 100 as progress_pct,
        cast(finishing.planned_to_date_amount as double) as planned_to_date_amount,
        cast(floor(
            100 * cast(finishing.planned_to_date_amount as double)
            / nullif(cast(finishing.plan_amount as double), 0) * 100 + 0.5
        ) as double) / 100 as planned_to_date_pct,
        finishing.remaining_amount,
        finishing.start_date,
        finishing.planned_end_date,
        cast(finishing.days_remaining as integer) as days_remaining,
        case
            when finishing.remaining_amount = 0 then cast(0 as double)
            when finishing.days_remaining > 0
                then finishing.remaining_amount / cast(finishing.days_remaining as double)
        end as required_daily_rate,
        finishing.pace_per_day,
        case
            when finishing.remaining_amount = 0 then finishing.report_date
            when
                finishing.days_to_finish
                <= finishing.days_to_planned_end + {{ expected_finish_horizon_days }}
                then {{ add_days('finishing.report_date', 'finishing.days_to_finish') }}
        end as expected_finish_date,
        case
            when finishing.unit = 'tonnes'
                then cast(finishing.cumulative_amount as double)
                    / nullif(cast(finishing.cumulative_harvested_ha as double), 0)
        end as yield_t_per_ha,
        finishing.received_reports,
        finishing.expected_reports

    from finishing
    inner join regions
        on finishing.region_id = regions.region_id

)

select * from final
