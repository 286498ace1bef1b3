-- Subscribers per province, operator, service and month. An operator corrects a month by
-- sending the record again with a later updated_at: the latest version wins.
with

subscriber_counts as (

    select * from {{ ref('stg_telecom__subscriber_counts') }}

),

ranked as (

    select
        subscriber_counts.*,
        row_number() over (
            partition by
                subscriber_counts.province_code,
                subscriber_counts.operator_code,
                subscriber_counts.service_code,
                subscriber_counts.month_start_date
            order by
                subscriber_counts.updated_at desc,
                subscriber_counts.revision_number desc,
                subscriber_counts.extracted_at desc
        ) as version_rank,
        count(*) over (
            partition by
                subscriber_counts.province_code,
                subscriber_counts.operator_code,
                subscriber_counts.service_code,
                subscriber_counts.month_start_date
        ) as landed_version_count

    from subscriber_counts

),

final as (

    select
        ranked.province_code
        || '|' || ranked.operator_code
        || '|' || ranked.service_code
        || '|' || cast(ranked.month_start_date as string) as subscriber_month_id,
        ranked.month_start_date,
        ranked.province_code,
        cast('telecom_statistics_api:' || ranked.operator_code as string) as enterprise_id,
        ranked.operator_code,
        ranked.service_code,
        ranked.subscribers,
        ranked.new_connections,
        ranked.revision_number,
        ranked.landed_version_count,
        ranked.subscriber_record_id,
        ranked.updated_at

    from ranked
    where ranked.version_rank = 1

)

select * from final
