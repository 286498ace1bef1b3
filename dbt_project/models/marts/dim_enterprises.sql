-- Every enterprise, facility, operator, contractor and farm that reports to a sector system,
-- with the ministry responsible for its sector. Each sector's staging model already keeps the
-- latest register entry; ids are prefixed with their system, so they never collide.
-- The list of sector registers is generated (macros/generated/sector_enterprise_models.sql)
-- from the stg_<sector>__enterprises models: a new sector's register is in once generated.
with

ministries as (

    select * from {{ ref('ref_ministries') }}

),

farms as (

    select * from {{ ref('dim_farms') }}

),

{% set sector_models = sector_enterprise_models() %}

sector_enterprises as (

    {% for model in sector_models %}
        select
            enterprise_id,
            enterprise_name,
            sector,
            ministry as reported_owner,
            province_code,
            district_code
        from {{ ref(model) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

agribusinesses as (

    select
        'agriculture_campaign:' || cast(farms.farm_id as string) as enterprise_id,
        farms.farm_name as enterprise_name,
        'agriculture' as sector,
        cast(null as string) as reported_owner,
        farms.province_code,
        farms.district_code

    from farms

),

all_enterprises as (

    select * from sector_enterprises
    union all
    select * from agribusinesses

),

final as (

    select
        all_enterprises.enterprise_id,
        all_enterprises.enterprise_name,
        all_enterprises.sector,
        ministries.ministry_id,
        all_enterprises.reported_owner,
        all_enterprises.province_code,
        all_enterprises.district_code

    from all_enterprises
    left join ministries
        on all_enterprises.sector = ministries.sector

)

select * from final
