-- One row per document from its events: when it was registered, routed, assigned and executed,
-- its deadlines and its passage cycle time; what depends on how far the log reaches ("overdue
-- now") is fct_edocument_documents'. An event delivered twice counts once.
-- Incremental on DuckDB: a daily build rebuilds only the documents its new batches bring events
-- of, each from every event of that document (macros/incremental/).
{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    incremental_strategy='delete+insert',
    unique_key='document_id',
    on_schema_change='fail',
) }}

with

all_events as (

    select * from {{ ref('stg_edocument__events') }}

),

-- Every event of the documents to build: all of them, or those the new batches touched.
events as (

    select all_events.*
    from all_events
    {% if is_incremental() -%}
    where all_events.document_id in (
        select distinct touched.document_id
        from all_events as touched
        where touched.batch_id in (
            {{ increment_batch_ids('edocument_workflow', 'events') }}
        )
    )
    {%- endif %}

),

unique_events as (

    select *
    from events
    qualify row_number() over (
            partition by events.event_id
            order by events.logged_at, events.log_file, events.log_line
        ) = 1

),

ranked as (

    select
        unique_events.*,
        -- The log's file and line break ties: a document rebuilt alone ranks as in a full build.
        row_number() over (
            partition by unique_events.document_id
            order by
                unique_events.event_at desc,
                unique_events.logged_at desc,
                unique_events.log_file desc,
                unique_events.log_line desc
        ) as recency_rank,
        row_number() over (
            partition by unique_events.document_id
            order by
                unique_events.event_at,
                unique_events.logged_at,
                unique_events.log_file,
                unique_events.log_line
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
        count(*) as event_count,
        max(ranked.logged_at) as last_logged_at

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
        cast({{ local_time('documents.registered_at', "'Asia/Ashgabat'") }} as date)
            as registered_date,
        cast({{ local_time('documents.executed_at', "'Asia/Ashgabat'") }} as date) as executed_date

    from documents
    inner join delivered_twice
        on documents.document_id = delivered_twice.document_id

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
        local_dates.event_count,
        local_dates.duplicate_event_count,
        local_dates.last_logged_at

    from local_dates

)

select * from final
