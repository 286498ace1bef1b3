-- Freight and passengers per route and month. An operator corrects a month by sending the
-- record again with a later updated_at: the latest version wins, earlier ones stay in staging.
with

traffic_reports as (

    select * from {{ ref('stg_transport__traffic_reports') }}

),

routes as (

    select * from {{ ref('stg_transport__routes') }}

),

ranked_reports as (

    select
        traffic_reports.*,
        row_number() over (
            partition by traffic_reports.route_code, traffic_reports.month_start_date
            order by
                traffic_reports.updated_at desc,
                traffic_reports.revision_number desc,
                traffic_reports.extracted_at desc
        ) as version_rank,
        count(*) over (
            partition by traffic_reports.route_code, traffic_reports.month_start_date
        ) as landed_version_count

    from traffic_reports

),

ranked_routes as (

    select
        routes.*,
        row_number() over (
            partition by routes.route_code
            order by routes.extracted_at desc, routes.updated_at desc
        ) as entry_rank

    from routes

),

latest_reports as (

    select * from ranked_reports
    where version_rank = 1

),

latest_routes as (

    select * from ranked_routes
    where entry_rank = 1

),

final as (

    select
        latest_reports.route_code
        || '|' || cast(latest_reports.month_start_date as string) as route_month_id,
        latest_reports.month_start_date,
        cast(
            'transport_statistics_api:' || latest_reports.operator_code as string
        ) as enterprise_id,
        latest_reports.operator_code,
        latest_reports.route_code,
        latest_reports.transport_mode,
        latest_routes.province_code,
        latest_routes.is_international,
        latest_reports.freight_tonnes,
        latest_reports.freight_tonne_km,
        latest_reports.passengers,
        latest_reports.passenger_km,
        latest_reports.revision_number,
        latest_reports.landed_version_count,
        latest_reports.traffic_record_id,
        latest_reports.updated_at

    from latest_reports
    left join latest_routes
        on latest_reports.route_code = latest_routes.route_code

)

select * from final
