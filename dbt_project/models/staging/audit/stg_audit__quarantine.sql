with

source as (

    select * from {{ source('audit', 'quarantine') }}

),

renamed as (

    select
        batch_id || ':' || cast(row_number as string) || ':' || rule || ':' || field
            as quarantine_id,
        batch_id,
        system as system_name,
        table_name,
        landed_file,
        row_number as source_row_number,
        rule as failed_rule,
        field as failed_field,
        value as failed_value,
        row_json,
        quarantined_at

    from source

)

select * from renamed
