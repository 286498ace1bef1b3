-- The state order in force per year, crop and district: its latest approved version.
with

orders as (

    select * from {{ ref('stg_agriculture__state_orders') }}

),

ranked as (

    select
        orders.*,
        row_number() over (
            partition by orders.order_year, orders.crop, orders.district_code
            order by orders.order_version desc, orders.updated_at desc
        ) as version_rank

    from orders

),

final as (

    select
        state_order_id,
        order_year,
        crop,
        district_code,
        plan_tonnes,
        plan_area_ha,
        order_version,
        approved_date

    from ranked
    where version_rank = 1

)

select * from final
