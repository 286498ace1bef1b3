-- Products with their units and names in three languages, from every sector that reports
-- output by product. Ids are prefixed with their system.
-- A new sector with products adds its stg_<sector>__products model to the list below.
{% set sector_models = [
    'stg_fuel_energy__products',
    'stg_chemical__products',
    'stg_processing__products',
    'stg_livestock__products',
    'stg_medicine__products',
    'stg_textile__products',
] %}

with

sector_products as (

    {% for model in sector_models %}
        select
            product_id,
            product_name_tk,
            product_name_ru,
            product_name_en,
            unit,
            sector
        from {{ ref(model) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select * from sector_products

)

select * from final
