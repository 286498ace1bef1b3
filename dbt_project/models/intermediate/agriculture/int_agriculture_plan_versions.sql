-- Every version of the state order per year, crop and district, with the dates it was in force:
-- from its approval to the approval of the next version (open-ended for the latest).
with

orders as (

    select * from {{ ref('stg_agriculture__state_orders') }}

),

-- A version re-sent by the source (same number) counts once: its last update wins.
versions as (

    select
        orders.state_order_id,
        orders.order_year,
        orders.crop,
        orders.district_code,
        orders.order_version,
        orders.approved_date,
        orders.plan_tonnes,
        orders.plan_area_ha

    from orders
    qualify row_number() over (
            partition by orders.order_year, orders.crop, orders.district_code, orders.order_version
            order by orders.updated_at desc, orders.state_order_id desc
        ) = 1

),

final as (

    select
        versions.order_year || '|' || versions.crop || '|' || versions.district_code
        || '|' || cast(versions.order_version as string) as plan_version_id,
        versions.state_order_id,
        versions.order_year,
        versions.crop,
        versions.district_code,
        versions.order_version,
        versions.approved_date,
        versions.plan_tonnes,
        versions.plan_area_ha,
        {{ plan_version_columns(
            'versions', ['order_year', 'crop', 'district_code'], 'order_version'
        ) }}

    from versions

)

select * from final
