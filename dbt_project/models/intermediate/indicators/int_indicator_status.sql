-- One row per indicator: how far its data reach and up to which day its periods are complete.
-- A period is partial when it is not over by the complete-through day: the indicator's last
-- date with data (its whole last month for monthly indicators), or the last reporting period
-- of its sector's system whose deadline had passed by the latest delivery, whichever is
-- earlier. Kept apart from the values so that a new day does not rewrite their older rows.
with

indicators as (

    select * from {{ ref('dim_indicators') }}

),

delivery_periods as (

    select * from {{ ref('int_source_delivery_periods') }}

),
{%- for sector in indicator_sectors() %}

    {{ sector }}_days as (

        select * from {{ ref('int_indicator_days_' ~ sector) }}

    ),
{%- endfor %}

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

cutoffs as (

    select
        indicators.indicator_id,
        data_through.data_through_date,
        -- Monthly indicators have data for whole months: their cut-off is that month's end.
        case
            when indicators.periodicity like '%day%' or indicators.periodicity like '%week%'
                then data_through.data_through_date
            else {{ add_days(
                "cast(cast(date_trunc('month', data_through.data_through_date) as date)"
                ~ " + interval 1 month as date)", -1) }}
        end as data_cutoff_date,
        sector_due_through.due_through_date

    from indicators
    inner join data_through
        on indicators.indicator_id = data_through.indicator_id
    left join sector_due_through
        on indicators.sector = sector_due_through.sector

),

final as (

    select
        cutoffs.indicator_id,
        cutoffs.data_through_date,
        cutoffs.data_cutoff_date,
        cutoffs.due_through_date,
        case
            when cutoffs.due_through_date < cutoffs.data_cutoff_date
                then cutoffs.due_through_date
            else cutoffs.data_cutoff_date
        end as complete_through_date

    from cutoffs

)

select * from final
