-- Every indicator of the catalogue by period and region (and enterprise where it applies), with
-- its target, variance and green/amber/red status. Values come from the per-sector models, which
-- the catalogue compiles (macros/indicators); ratios there are ratios of sums at every level.
-- A value is marked partial when its period is not over by the data's cut-off: the indicator's
-- last date with data (its whole last month for monthly indicators), or the last reporting
-- period of its sector's system whose deadline had passed by the latest delivery, whichever is
-- earlier; a campaign is partial while it still has data on that day.
with

indicators as (

    select * from {{ ref('dim_indicators') }}

),

delivery_periods as (

    select * from {{ ref('int_source_delivery_periods') }}

),

-- The last day each sector's reports were all due by, as of the latest delivery of any system.
sector_due_through as (

    select
        delivery_periods.sector,
        max(
            case
                when delivery_periods.every = 'day' then delivery_periods.period_start
                else {{ add_days(
                    'cast(delivery_periods.period_start + interval 1 month as date)', -1
                ) }}
            end
        ) as due_through_date

    from delivery_periods
    group by delivery_periods.sector

),
{%- for sector in indicator_sectors() %}

    {{ sector }}_values as (

        select * from {{ ref('int_indicator_values_' ~ sector) }}

    ),

    {{ sector }}_days as (

        select * from {{ ref('int_indicator_days_' ~ sector) }}

    ),
{%- endfor %}

-- Each indicator's last date with data: the latest day of its current base rows.
data_through as (
    {%- for sector in indicator_sectors() %}

        select
            {{ sector }}_days.indicator_id,
            max(
                case when {{ sector }}_days.is_current then {{ sector }}_days.base_date end
            ) as data_through_date
        from {{ sector }}_days
        group by {{ sector }}_days.indicator_id
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

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
        data_through.data_through_date,
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
        -- Monthly indicators have data for whole months: their cut-off is that month's end.
        case
            when indicators.periodicity like '%day%' or indicators.periodicity like '%week%'
                then data_through.data_through_date
            else {{ add_days(
                "cast(cast(date_trunc('month', data_through.data_through_date) as date)"
                ~ " + interval 1 month as date)", -1) }}
        end as data_cutoff_date,
        sector_due_through.due_through_date,
        -- "target" is the column name the issue publishes.
        case indicators.target_type
            when 'measure' then indicator_values.target_amount
            when 'constant' then indicators.target_value
        end as target  -- noqa: RF04

    from indicator_values
    inner join indicators
        on indicator_values.indicator_id = indicators.indicator_id
    inner join data_through
        on indicator_values.indicator_id = data_through.indicator_id
    left join sector_due_through
        on indicators.sector = sector_due_through.sector

),

complete as (

    select
        targeted.*,
        case
            when targeted.due_through_date < targeted.data_cutoff_date
                then targeted.due_through_date
            else targeted.data_cutoff_date
        end as complete_through_date

    from targeted

),

judged as (

    select
        complete.*,
        -- Thresholds are in the indicator's unit, or in per cent of the target for amounts.
        case complete.threshold_basis
            when 'value' then complete.value
            when 'pct_of_target' then 100 * complete.value / nullif(complete.target, 0)
        end as status_basis,
        case when complete.direction = 'higher_is_better' then 1 else -1 end as direction_sign,
        case
            when complete.period_type = 'campaign'
                then complete.period_last_data_date >= complete.complete_through_date
            else complete.period_end_date > complete.complete_through_date
        end as is_partial_period

    from complete

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
