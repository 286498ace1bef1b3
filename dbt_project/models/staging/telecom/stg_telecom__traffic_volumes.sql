with

source as (

    select * from {{ source('telecom_statistics_api', 'traffic') }}

),

renamed as (

    select
        cast(record_id as string) || '@' || _batch_id as traffic_volume_version_id,
        record_id as traffic_record_id,
        cast(period || '-01' as date) as month_start_date,
        province_code,
        operator_code,
        cast(voice_minutes as decimal(18, 3)) as voice_minutes,
        cast(data_tb as decimal(18, 3)) as data_tb,
        revision as revision_number,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
