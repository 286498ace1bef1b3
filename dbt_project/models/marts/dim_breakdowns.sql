-- Every value an indicator breaks down by that is a code, named in three languages: the
-- bodies of the e-document system, the sector systems, the products, and the plain terms.
with

government_bodies as (

    select * from {{ ref('ref_government_bodies') }}

),

source_systems as (

    select * from {{ ref('ref_source_systems') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

terms as (

    select * from {{ ref('ref_breakdown_terms') }}

),

named as (

    select
        body_code as breakdown,
        'government_body' as breakdown_kind,
        name_tk,
        name_ru,
        name_en
    from government_bodies

    union all

    select
        system_name as breakdown,
        'source_system' as breakdown_kind,
        name_tk,
        name_ru,
        name_en
    from source_systems

    union all

    select
        product_id as breakdown,
        'product' as breakdown_kind,
        product_name_tk as name_tk,
        product_name_ru as name_ru,
        product_name_en as name_en
    from products

    union all

    select
        term as breakdown,
        'term' as breakdown_kind,
        name_tk,
        name_ru,
        name_en
    from terms

)

select * from named
