-- The administrative hierarchy: country, provinces (welaýat) and districts (etrap), one row each,
-- with names in Turkmen, Russian and English. Names and boundaries change: validity dates come
-- from the reference seeds.
with

provinces as (

    select * from {{ ref('ref_provinces') }}

),

districts as (

    select * from {{ ref('ref_districts') }}

),

country as (

    select
        'TM' as region_id,
        'country' as region_level,
        cast(null as string) as parent_region_id,
        cast(null as string) as province_code,
        cast(null as string) as district_code,
        'Türkmenistan' as name_tk,
        'Туркменистан' as name_ru,
        'Turkmenistan' as name_en,
        false as is_agricultural,
        cast('1991-10-27' as date) as valid_from,
        cast(null as date) as valid_to

),

province_rows as (

    select
        provinces.province_code as region_id,
        'province' as region_level,
        'TM' as parent_region_id,
        provinces.province_code,
        cast(null as string) as district_code,
        provinces.name_tk,
        provinces.name_ru,
        provinces.name_en,
        false as is_agricultural,
        provinces.valid_from,
        provinces.valid_to

    from provinces

),

district_rows as (

    select
        districts.district_code as region_id,
        'district' as region_level,
        districts.province_code as parent_region_id,
        districts.province_code,
        districts.district_code,
        districts.name_tk,
        districts.name_ru,
        districts.name_en,
        districts.is_agricultural,
        districts.valid_from,
        districts.valid_to

    from districts

),

final as (

    select * from country
    union all
    select * from province_rows
    union all
    select * from district_rows

)

select * from final
