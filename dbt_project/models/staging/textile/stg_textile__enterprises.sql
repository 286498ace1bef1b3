-- One row per mill as the latest register sent describes it: the shape every sector's
-- enterprise list has, which the warehouse's enterprise dimension unions. Each register is a
-- full copy, so keeping the latest copy of each mill is all this does beyond renaming.
with

source as (

    select * from {{ source('textile_mill_output', 'mills') }}

),

latest as (

    select * from source
    qualify
        row_number() over (
            partition by mill_code
            order by _batch_id desc, _row_number desc
        ) = 1

),

renamed as (

    select
        'textile_mill_output:' || mill_code as enterprise_id,
        name_tk as enterprise_name,
        'textile' as sector,
        'textile' as ministry,
        province_code,
        district_code

    from latest

)

select * from renamed
