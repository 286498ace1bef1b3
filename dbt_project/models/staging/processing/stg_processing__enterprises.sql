-- The plants in the shape every sector gives dim_enterprises: the latest entry of each plant in
-- any landed copy of the register, so that a plant later removed still names its old output.
with

plants as (

    select * from {{ ref('stg_processing__plants') }}

),

districts as (

    select * from {{ ref('ref_districts') }}

),

latest as (

    select *
    from plants
    qualify row_number() over (
            partition by plants.plant_code
            order by plants.extracted_at desc, plants.updated_at desc
        ) = 1

),

final as (

    select
        cast('processing_output:' || latest.plant_code as string) as enterprise_id,
        cast(latest.plant_name as string) as enterprise_name,
        cast('processing' as string) as sector,
        cast(latest.owner_name as string) as ministry,
        cast(districts.province_code as string) as province_code,
        cast(latest.district_code as string) as district_code

    from latest
    left join districts
        on latest.district_code = districts.district_code

)

select * from final
