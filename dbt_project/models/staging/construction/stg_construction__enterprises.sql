-- The contractors in the shape every sector gives dim_enterprises: the latest entry of each
-- contractor in any landed copy, so that a contractor later removed still names its projects.
with

contractors as (

    select * from {{ ref('stg_construction__contractors') }}

),

districts as (

    select * from {{ ref('ref_districts') }}

),

latest as (

    select *
    from contractors
    qualify row_number() over (
            partition by contractors.contractor_id
            order by contractors.extracted_at desc, contractors.updated_at desc
        ) = 1

),

final as (

    select
        cast('construction_projects:' || cast(latest.contractor_id as string) as string)
            as enterprise_id,
        cast(latest.contractor_name as string) as enterprise_name,
        cast('construction' as string) as sector,
        cast(latest.supervising_ministry as string) as ministry,
        cast(districts.province_code as string) as province_code,
        cast(latest.district_code as string) as district_code

    from latest
    left join districts
        on latest.district_code = districts.district_code

)

select * from final
