-- The products in the shape every sector gives dim_products: the latest entry of each product.
with

source as (

    select * from {{ source('processing_output', 'products') }}

),

latest as (

    select *
    from source
    qualify row_number() over (
            partition by source.product_code
            order by source._extracted_at desc, source.updated_at desc
        ) = 1

),

renamed as (

    select
        cast('processing_output:' || product_code as string) as product_id,
        cast(product_name_tk as string) as product_name_tk,
        cast(product_name_ru as string) as product_name_ru,
        cast(product_name_en as string) as product_name_en,
        cast(unit as string) as unit,
        cast('processing' as string) as sector

    from latest

)

select * from renamed
