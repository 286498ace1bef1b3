with

source as (

    select * from {{ source('audit', 'batches') }}

),

renamed as (

    select
        batch_id,
        system as system_name,
        table_name,
        mode as extract_mode,
        source_file,
        landed_file,
        extracted_at,
        cursor_to,
        extracted_rows,
        loaded_rows,
        quarantined_rows,
        held_rows,
        status as batch_status,
        gate_summary,
        gate_report as gate_report_path,
        checked_at

    from source

)

select * from renamed
