with

source as (

    select * from {{ source('telecom_statistics_api', 'subscribers') }}

),

renamed as (

    select
        cast(record_id as string) || '@' || _batch_id as subscriber_count_version_id,
        record_id as subscriber_record_id,
        cast(period || '-01' as date) as month_start_date,
        province_code,
        operator_code,
        service as service_code,
        cast(subscribers as decimal(18, 3)) as subscribers,
        cast(new_connections as decimal(18, 3)) as new_connections,
        revision as revision_number,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
