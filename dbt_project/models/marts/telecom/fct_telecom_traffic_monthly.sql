-- Voice and data traffic per province, operator and month. An operator corrects a month by
-- sending the record again with a later updated_at: the latest version wins. A month an
-- operator never delivered for a province has no row.
with

traffic_volumes as (

    select * from {{ ref('stg_telecom__traffic_volumes') }}

),

ranked as (

    select
        traffic_volumes.*,
        row_number() over (
            partition by
                traffic_volumes.province_code,
                traffic_volumes.operator_code,
                traffic_volumes.month_start_date
            order by
                traffic_volumes.updated_at desc,
                traffic_volumes.revision_number desc,
                traffic_volumes.extracted_at desc
        ) as version_rank,
        count(*) over (
            partition by
                traffic_volumes.province_code,
                traffic_volumes.operator_code,
                traffic_volumes.month_start_date
        ) as landed_version_count

    from traffic_volumes

),

final as (

    select
        ranked.province_code
        || '|' || ranked.operator_code
        || '|' || cast(ranked.month_start_date as string) as traffic_month_id,
        ranked.month_start_date,
        ranked.province_code,
        cast('telecom_statistics_api:' || ranked.operator_code as string) as enterprise_id,
        ranked.operator_code,
        ranked.voice_minutes,
        ranked.data_tb,
        ranked.revision_number,
        ranked.landed_version_count,
        ranked.traffic_record_id,
        ranked.updated_at

    from ranked
    where ranked.version_rank = 1

)

select * from final
