-- One row per plant as the latest register sent describes it: the shape every sector's
-- enterprise list has, which the warehouse's enterprise dimension unions. Each register is a
-- full copy, so keeping the latest copy of each plant is all this does beyond renaming.
with

source as (

    select * from {{ source('chemical_monthly_form', 'enterprises') }}

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
        'chemical_monthly_form:' || enterprise_code as enterprise_id,
        name_tk as enterprise_name,
        'chemical' as sector,
        'chemical' as ministry,
        province_code,
        district_code

    from latest

)

select * from renamed
