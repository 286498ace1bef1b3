-- One row per enterprise as the latest register sent describes it: the shape every sector's
-- enterprise list has, which the warehouse's enterprise dimension unions. Each register file
-- is a full copy, so keeping the latest copy of each enterprise is all this does beyond
-- renaming; every copy stays in raw.
with

source as (

    select * from {{ source('fuel_energy_production', 'enterprises') }}

),

latest as (

    select * from source
    qualify
        row_number() over (
            partition by enterprise_code
            order by _batch_id desc, _row_number desc
        ) = 1

),

renamed as (

    select
        'fuel_energy_production:' || enterprise_code as enterprise_id,
        name_tk as enterprise_name,
        'fuel_energy' as sector,
        'energy' as ministry,
        province_code,
        district_code

    from latest

)

select * from renamed
