-- Agribusinesses (daýhan birleşikleri and other farms) with the region they belong to.
with

farms as (

    select * from {{ ref('int_farms_latest') }}

),

regions as (

    select * from {{ ref('dim_regions') }}

),

final as (

    select
        farms.farm_id,
        farms.farm_name,
        farms.farm_type,
        farms.established_date,
        farms.district_code,
        regions.province_code

    from farms
    left join regions
        on farms.district_code = regions.region_id

)

select * from final
