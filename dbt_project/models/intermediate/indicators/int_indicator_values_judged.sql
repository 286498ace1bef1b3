-- Every indicator of the catalogue by period, region and enterprise, with its target, variance,
-- green/amber/red status and whether its period is partial (int_indicator_status). Values come
-- from the per-sector models, which the catalogue compiles (macros/indicators); ratios there
-- are ratios of sums at every level. A view: fct_indicator_values keeps the region rows of it,
-- fct_enterprise_indicator_values shows the enterprise rows.
{{ config(materialized='view') }}

with

indicators as (

    select * from {{ ref('dim_indicators') }}

),

status as (

    select * from {{ ref('int_indicator_status') }}

),
{%- for sector in indicator_sectors() %}

    {{ sector }}_values as (

        select * from {{ ref('int_indicator_values_' ~ sector) }}

    ),
{%- endfor %}

indicator_values as (
    {%- for sector in indicator_sectors() %}

        select * from {{ sector }}_values
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

targeted as (

    select
        indicator_values.*,
        status.data_through_date,
        status.complete_through_date,
        indicators.direction,
        indicators.threshold_basis,
        indicators.green_threshold,
        indicators.amber_threshold,
        -- The period's last day (none for a campaign: it ends when its data stop).
        case indicator_values.period_type
            when 'day' then indicator_values.period_start
            when 'week' then {{ add_days('indicator_values.period_start', 6) }}
            when 'quarter' then {{ add_days(
                'cast(indicator_values.period_start + interval 3 month as date)', -1) }}
            when 'year' then {{ add_days(
                'cast(indicator_values.period_start + interval 1 year as date)', -1) }}
            when 'campaign' then cast(null as date)
            else {{ add_days(
                'cast(indicator_values.period_start + interval 1 month as date)', -1) }}
        end as period_end_date,
        -- "target" is the column name the issue publishes.
        case indicators.target_type
            when 'measure' then indicator_values.target_amount
            when 'constant' then indicators.target_value
        end as target  -- noqa: RF04

    from indicator_values
    inner join indicators
        on indicator_values.indicator_id = indicators.indicator_id
    inner join status
        on indicator_values.indicator_id = status.indicator_id

),

judged as (

    select
        targeted.*,
        -- Thresholds are in the indicator's unit, or in per cent of the target for amounts.
        case targeted.threshold_basis
            when 'value' then targeted.value
            when 'pct_of_target' then 100 * targeted.value / nullif(targeted.target, 0)
        end as status_basis,
        case when targeted.direction = 'higher_is_better' then 1 else -1 end as direction_sign,
        case
            when targeted.period_type = 'campaign'
                then targeted.period_last_data_date >= targeted.complete_through_date
            else targeted.period_end_date > targeted.complete_through_date
        end as is_partial_period

    from targeted

),

final as (

    select
        judged.indicator_id || '|' || judged.period_type || '|'
        || cast(judged.period_start as string) || '|' || judged.region_id || '|'
        || coalesce(judged.enterprise_id, '-') || '|' || coalesce(judged.breakdown, '-')
            as indicator_value_id,
        judged.indicator_id,
        judged.period_type,
        judged.period_start,
        judged.region_level,
        judged.region_id,
        judged.enterprise_id,
        judged.breakdown,
        judged.numerator,
        judged.denominator,
        judged.value,
        judged.target,
        judged.value - judged.target as variance,
        -- Signed so that "at or beyond the threshold" is one comparison for both directions.
        case
            when judged.status_basis is null or judged.green_threshold is null then null
            when judged.direction_sign * judged.status_basis
                >= judged.direction_sign * judged.green_threshold then 'green'
            when judged.direction_sign * judged.status_basis
                >= judged.direction_sign * judged.amber_threshold then 'amber'
            else 'red'
        end as status,
        coalesce(judged.is_partial_period, false) as is_partial_period,
        judged.is_restated,
        judged.data_through_date

    from judged

)

select * from final
