-- One row per document: when it was registered, routed, assigned and executed, its deadline in
-- force, the passage cycle time and the execution discipline. An event delivered twice counts
-- once. "Now" is how far the log reaches (its latest line), not the clock, so the fact is the
-- same whenever it is rebuilt from the same log. Dates compare in Aşgabat time, like deadlines.
with

events as (

    select * from {{ ref('stg_edocument__events') }}

),

working_calendar as (

    select
        calendar_date,
        working_day_number

    from {{ ref('dim_dates') }}

),

unique_events as (

    select *
    from events
    qualify row_number() over (
            partition by events.event_id
            order by events.logged_at, events.log_file, events.log_line
        ) = 1

),

log_reach as (

    select max(unique_events.logged_at) as status_as_of_at
    from unique_events

),

ranked as (

    select
        unique_events.*,
        row_number() over (
            partition by unique_events.document_id
            order by unique_events.event_at desc, unique_events.logged_at desc
        ) as recency_rank,
        row_number() over (
            partition by unique_events.document_id
            order by unique_events.event_at, unique_events.logged_at
        ) as age_rank

    from unique_events

),

documents as (

    select
        ranked.document_id,
        max(ranked.document_type) as document_type,
        max(ranked.sender_ministry_code) as sender_ministry_code,
        max(ranked.receiver_ministry_code) as receiver_ministry_code,
        min(case when ranked.event_type = 'registered' then ranked.event_at end)
            as registered_at,
        min(case when ranked.event_type = 'routed' then ranked.event_at end) as routed_at,
        min(case when ranked.event_type = 'assigned' then ranked.event_at end) as assigned_at,
        min(case when ranked.event_type = 'executed' then ranked.event_at end) as executed_at,
        max(case when ranked.recency_rank = 1 then ranked.deadline_date end) as deadline_date,
        max(case when ranked.age_rank = 1 then ranked.deadline_date end)
            as initial_deadline_date,
        max(case when ranked.recency_rank = 1 then ranked.department_code end)
            as department_code,
        count(*) as event_count

    from ranked
    group by ranked.document_id

),

delivered_twice as (

    select
        events.document_id,
        count(*) - count(distinct events.event_id) as duplicate_event_count

    from events
    group by events.document_id

),

local_dates as (

    select
        documents.*,
        delivered_twice.duplicate_event_count,
        log_reach.status_as_of_at,
        cast({{ local_time('documents.registered_at', "'Asia/Ashgabat'") }} as date)
            as registered_date,
        cast({{ local_time('documents.executed_at', "'Asia/Ashgabat'") }} as date) as executed_date,
        cast({{ local_time('log_reach.status_as_of_at', "'Asia/Ashgabat'") }} as date)
            as status_as_of_date

    from documents
    inner join delivered_twice
        on documents.document_id = delivered_twice.document_id
    cross join log_reach

),

final as (

    select
        local_dates.document_id,
        local_dates.document_type,
        local_dates.sender_ministry_code,
        local_dates.receiver_ministry_code,
        local_dates.department_code,
        local_dates.registered_at,
        local_dates.registered_date,
        local_dates.routed_at,
        local_dates.assigned_at,
        local_dates.executed_at,
        local_dates.executed_date,
        local_dates.initial_deadline_date,
        local_dates.deadline_date,
        coalesce(local_dates.deadline_date > local_dates.initial_deadline_date, false)
            as is_deadline_extended,
        cast(
            {{ seconds_between('local_dates.registered_at', 'local_dates.executed_at') }} / 3600
            as decimal(18, 3)
        ) as cycle_time_hours,
        cast(
            {{ seconds_between('local_dates.registered_at', 'local_dates.executed_at') }} / 86400
            as decimal(18, 3)
        ) as cycle_time_days,
        local_dates.executed_at is not null as is_executed,
        case
            when local_dates.executed_date is not null and local_dates.deadline_date is not null
                then local_dates.executed_date <= local_dates.deadline_date
        end as is_executed_on_time,
        coalesce(
            local_dates.executed_at is null
            and local_dates.deadline_date < local_dates.status_as_of_date,
            false
        ) as is_overdue_now,
        case
            when local_dates.executed_date > local_dates.deadline_date
                then {{ days_between('local_dates.deadline_date', 'local_dates.executed_date') }}
            when
                local_dates.executed_at is null
                and local_dates.deadline_date < local_dates.status_as_of_date
                then {{ days_between(
                    'local_dates.deadline_date', 'local_dates.status_as_of_date'
                ) }}
            else 0
        end as days_overdue,
        -- Working days exclude weekends, public holidays and the days off they move to.
        executed_day.working_day_number - registered_day.working_day_number
            as cycle_time_working_days,
        case
            when local_dates.executed_date > local_dates.deadline_date
                then executed_day.working_day_number - deadline_day.working_day_number
            when
                local_dates.executed_at is null
                and local_dates.deadline_date < local_dates.status_as_of_date
                then status_day.working_day_number - deadline_day.working_day_number
            else 0
        end as working_days_overdue,
        local_dates.event_count,
        local_dates.duplicate_event_count,
        local_dates.status_as_of_at,
        local_dates.status_as_of_date

    from local_dates
    left join working_calendar as registered_day
        on local_dates.registered_date = registered_day.calendar_date
    left join working_calendar as executed_day
        on local_dates.executed_date = executed_day.calendar_date
    left join working_calendar as deadline_day
        on local_dates.deadline_date = deadline_day.calendar_date
    left join working_calendar as status_day
        on local_dates.status_as_of_date = status_day.calendar_date

)

select * from final
