-- One row per document: when it was registered, routed, assigned and executed, its deadline in
-- force, the passage cycle time and the execution discipline. An event delivered twice counts
-- once. "Now" is how far the log reaches (its latest line), not the clock, so the fact is the
-- same whenever it is rebuilt from the same log. Dates compare in Aşgabat time, like deadlines.
-- The documents come from int_edocument_documents (rebuilt by document); what moves with the
-- log's reach, and the working days, are added here for every document.
with

documents as (

    select * from {{ ref('int_edocument_documents') }}

),

working_calendar as (

    select
        calendar_date,
        working_day_number

    from {{ ref('dim_dates') }}

),

-- The latest line of the log: every document's latest event, the latest of them.
log_reach as (

    select max(documents.last_logged_at) as status_as_of_at
    from documents

),

with_reach as (

    select
        documents.*,
        log_reach.status_as_of_at,
        cast({{ local_time('log_reach.status_as_of_at', "'Asia/Ashgabat'") }} as date)
            as status_as_of_date

    from documents
    cross join log_reach

),

final as (

    select
        with_reach.document_id,
        with_reach.document_type,
        with_reach.sender_ministry_code,
        with_reach.receiver_ministry_code,
        with_reach.department_code,
        with_reach.registered_at,
        with_reach.registered_date,
        with_reach.routed_at,
        with_reach.assigned_at,
        with_reach.executed_at,
        with_reach.executed_date,
        with_reach.initial_deadline_date,
        with_reach.deadline_date,
        with_reach.is_deadline_extended,
        with_reach.cycle_time_hours,
        with_reach.cycle_time_days,
        with_reach.is_executed,
        with_reach.is_executed_on_time,
        coalesce(
            with_reach.executed_at is null
            and with_reach.deadline_date < with_reach.status_as_of_date,
            false
        ) as is_overdue_now,
        case
            when with_reach.executed_date > with_reach.deadline_date
                then {{ days_between('with_reach.deadline_date', 'with_reach.executed_date') }}
            when
                with_reach.executed_at is null
                and with_reach.deadline_date < with_reach.status_as_of_date
                then {{ days_between(
                    'with_reach.deadline_date', 'with_reach.status_as_of_date'
                ) }}
            else 0
        end as days_overdue,
        -- Working days exclude weekends, public holidays and the days off they move to.
        executed_day.working_day_number - registered_day.working_day_number
            as cycle_time_working_days,
        case
            when with_reach.executed_date > with_reach.deadline_date
                then executed_day.working_day_number - deadline_day.working_day_number
            when
                with_reach.executed_at is null
                and with_reach.deadline_date < with_reach.status_as_of_date
                then status_day.working_day_number - deadline_day.working_day_number
            else 0
        end as working_days_overdue,
        with_reach.event_count,
        with_reach.duplicate_event_count,
        with_reach.status_as_of_at,
        with_reach.status_as_of_date

    from with_reach
    left join working_calendar as registered_day
        on with_reach.registered_date = registered_day.calendar_date
    left join working_calendar as executed_day
        on with_reach.executed_date = executed_day.calendar_date
    left join working_calendar as deadline_day
        on with_reach.deadline_date = deadline_day.calendar_date
    left join working_calendar as status_day
        on with_reach.status_as_of_date = status_day.calendar_date

)

select * from final
