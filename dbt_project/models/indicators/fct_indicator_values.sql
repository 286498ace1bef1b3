-- Every indicator of the catalogue by period and region (and enterprise where it applies), with
-- its target, variance and green/amber/red status. Values come from the per-sector models, which
-- the catalogue compiles (macros/indicators); ratios there are ratios of sums at every level.
with

indicators as (

    select * from {{ ref('dim_indicators') }}

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
        indicators.direction,
        indicators.threshold_basis,
        indicators.green_threshold,
        indicators.amber_threshold,
        -- "target" is the column name the issue publishes.
        case indicators.target_type
            when 'measure' then indicator_values.target_amount
            when 'constant' then indicators.target_value
        end as target  -- noqa: RF04

    from indicator_values
    inner join indicators
        on indicator_values.indicator_id = indicators.indicator_id

),

judged as (

    select
        targeted.*,
        -- Thresholds are in the indicator's unit, or in per cent of the target for amounts.
        case targeted.threshold_basis
            when 'value' then targeted.value
            when 'pct_of_target' then 100 * targeted.value / nullif(targeted.target, 0)
        end as status_basis,
        case when targeted.direction = 'higher_is_better' then 1 else -1 end as direction_sign

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
        end as status

    from judged

)

select * from final
