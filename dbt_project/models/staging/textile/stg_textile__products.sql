-- One row per product as the latest classifier sent describes it: the shape every sector's
-- product list has, which the warehouse's product dimension unions.
with

source as (

    select * from {{ source('textile_mill_output', 'products') }}

),

latest as (

    select * from source
    qualify
        row_number() over (
            partition by product_code
            order by _batch_id desc, _row_number desc
        ) = 1

),

renamed as (

    select
        'textile_mill_output:' || product_code as product_id,
        name_tk as product_name_tk,
        name_ru as product_name_ru,
        name_en as product_name_en,
        unit,
        'textile' as sector

    from latest

)

select * from renamed
