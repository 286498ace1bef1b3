-- One row per health facility as the latest register sent describes it: the shape every
-- sector's enterprise list has, which the warehouse's enterprise dimension unions. Each
-- register is a full copy, so keeping the latest copy of each facility is all this does beyond
-- renaming.
with

source as (

    select * from {{ source('medicine_facility_reports', 'facilities') }}

),

latest as (

    select * from source
    qualify
        row_number() over (
            partition by facility_code
            order by _batch_id desc, _row_number desc
        ) = 1

),

renamed as (

    select
        'medicine_facility_reports:' || facility_code as enterprise_id,
        name_tk as enterprise_name,
        'medicine' as sector,
        'health' as ministry,
        province_code,
        district_code

    from latest

)

select * from renamed
