with

source as (

    select * from {{ source('edocument_workflow', 'events') }}

),

renamed as (

    select
        event_id,
        event_type,
        event_time as event_at,
        document_id,
        document_type,
        sender_ministry as sender_ministry_code,
        receiver_ministry as receiver_ministry_code,
        deadline as deadline_date,
        department as department_code,
        logged_at,
        log_file,
        log_line,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
