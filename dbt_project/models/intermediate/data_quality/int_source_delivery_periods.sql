-- One row per sector system and reporting period that was due by the time of the data: whether
-- it was delivered and whether its first record arrived by the deadline. The deadline follows
-- the system's schedule (ref_delivery_schedules, from pipelines/<sector>/sources.yml): a day is
-- due the next day, a month on day_of_month of the next month, at expected_by local time plus
-- the grace hours. "Now" is the latest submission seen from any system: the warehouse knows no
-- other clock, and the demo's data end in 2023.
{#- Var delivery_systems (optional) narrows the model to some systems, for unit tests. #}
{%- set only = var('delivery_systems', none) %}
{%- set deliveries = [] %}
{%- for delivery in source_delivery_catalogue() %}
    {%- if only is none or delivery.system in only %}
        {%- do deliveries.append(delivery) %}
    {%- endif %}
{%- endfor %}
with

schedules as (

    select * from {{ ref('ref_delivery_schedules') }}

),

days_off_by_law as (

    select * from {{ ref('ref_public_holidays') }}

),
{%- for delivery in deliveries %}

    {{ delivery.system }}__records as (

        select * from {{ ref(delivery.model) }}

    ),
    {%- if delivery.expected_during %}

        {{ delivery.system }}__windows as (

            select * from {{ ref(delivery.expected_during.model) }}

        ),
    {%- endif %}
{%- endfor %}

calendar_days as (

    {{ calendar_days() }}

),

-- First submission of each reporting unit's report for each period of each system (a system
-- without declared reporting units is one unit), by the source's own submission stamp.
unit_deliveries as (
    {%- for delivery in deliveries %}

        select
            '{{ delivery.system }}' as system_name,
            cast({{ catalogue_expression(delivery.period) }} as date) as period_start,
            cast({{ delivery.get('unit') or "'all'" }} as string) as unit_id,
            min({{ catalogue_expression(delivery.delivered_at) }}) as first_delivered_at,
            count(*) as delivered_records

        from {{ delivery.system }}__records
        group by
            cast({{ catalogue_expression(delivery.period) }} as date),
            cast({{ delivery.get('unit') or "'all'" }} as string)
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

-- First submission of each reporting period of each system.
deliveries as (

    select
        unit_deliveries.system_name,
        unit_deliveries.period_start,
        min(unit_deliveries.first_delivered_at) as first_delivered_at,
        sum(unit_deliveries.delivered_records) as delivered_records

    from unit_deliveries
    group by unit_deliveries.system_name, unit_deliveries.period_start

),

-- When a system was connected to the warehouse: periods before it came in its archive.
connections as (
    {%- for delivery in deliveries %}

        {%- set connected_on = "'" ~ delivery.connected_on ~ "'"
            if delivery.connected_on else 'null' %}
        select
            '{{ delivery.system }}' as system_name,
            cast({{ connected_on }} as date) as connected_on
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

-- Date windows in which reports are due: campaigns for seasonal systems, else from the first
-- delivered period on.
windows as (
    {%- for delivery in deliveries %}
        {%- if delivery.expected_during %}

            select distinct
                '{{ delivery.system }}' as system_name,
                cast({{ delivery.expected_during.start }} as date) as window_start,
                cast({{ delivery.expected_during.end }} as date) as window_end,
                {{ 'true' if delivery.working_days_only else 'false' }} as is_working_days_only

            from {{ delivery.system }}__windows
        {%- else %}

            select
                '{{ delivery.system }}' as system_name,
                min(deliveries.period_start) as window_start,
                cast('{{ var("calendar_end_date") }}' as date) as window_end,
                {{ 'true' if delivery.working_days_only else 'false' }} as is_working_days_only

            from deliveries
            where deliveries.system_name = '{{ delivery.system }}'
        {%- endif %}
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

data_through as (

    select max(deliveries.first_delivered_at) as as_of
    from deliveries

),

periods as (

    select distinct
        windows.system_name,
        calendar_days.calendar_date as period_start,
        schedules.every,
        schedules.timezone,
        -- The deadline in local time: the due day at expected_by, plus the grace hours.
        {{ local_deadline(
            "case schedules.every
                when 'day' then calendar_days.calendar_date + 1
                else cast(calendar_days.calendar_date + interval 1 month as date)
                    + (schedules.day_of_month - 1)
            end",
            'schedules.expected_by',
            'schedules.grace_hours'
        ) }} as deadline_local

    from windows
    inner join schedules
        on windows.system_name = schedules.system_name
    inner join calendar_days
        on calendar_days.calendar_date between windows.window_start and windows.window_end
    left join days_off_by_law
        on calendar_days.calendar_date = days_off_by_law.holiday_date
    where
        (schedules.every = 'day' or day(calendar_days.calendar_date) = 1)
        and not (
            windows.is_working_days_only
            and (
                {{ iso_day_of_week('calendar_days.calendar_date') }} > 5
                or days_off_by_law.holiday_date is not null
            )
        )

),

due_periods as (

    select
        periods.system_name,
        periods.period_start,
        periods.every,
        {{ instant_at_local_time('periods.deadline_local', 'periods.timezone') }} as deadline_at

    from periods
    cross join data_through
    where
        {{ instant_at_local_time('periods.deadline_local', 'periods.timezone') }}
        <= data_through.as_of

),

-- Each unit's first submission against the period's deadline.
unit_timeliness as (

    select
        unit_deliveries.system_name,
        unit_deliveries.period_start,
        count(*) as delivered_units,
        sum(
            case
                when unit_deliveries.first_delivered_at <= due_periods.deadline_at then 1 else 0
            end
        ) as on_time_units

    from unit_deliveries
    inner join due_periods
        on
            unit_deliveries.system_name = due_periods.system_name
            and unit_deliveries.period_start = due_periods.period_start
    group by unit_deliveries.system_name, unit_deliveries.period_start

),

final as (

    select
        due_periods.system_name || '|' || cast(due_periods.period_start as string)
            as delivery_period_id,
        due_periods.system_name,
        schedules.sector,
        due_periods.every,
        due_periods.period_start,
        due_periods.deadline_at,
        deliveries.first_delivered_at,
        coalesce(deliveries.delivered_records, 0) as delivered_records,
        case when deliveries.first_delivered_at is not null then 1 else 0 end as is_delivered,
        case when deliveries.first_delivered_at <= due_periods.deadline_at then 1 else 0 end
            as is_on_time,
        round(
            {{ minutes_between('due_periods.deadline_at', 'deliveries.first_delivered_at') }}
            / 60.0,
            1
        ) as hours_late,
        coalesce(unit_timeliness.delivered_units, 0) as delivered_units,
        coalesce(unit_timeliness.on_time_units, 0) as on_time_units,
        coalesce(due_periods.period_start < connections.connected_on, false) as is_archive_period

    from due_periods
    inner join schedules
        on due_periods.system_name = schedules.system_name
    inner join connections
        on due_periods.system_name = connections.system_name
    left join deliveries
        on
            due_periods.system_name = deliveries.system_name
            and due_periods.period_start = deliveries.period_start
    left join unit_timeliness
        on
            due_periods.system_name = unit_timeliness.system_name
            and due_periods.period_start = unit_timeliness.period_start

)

select * from final
