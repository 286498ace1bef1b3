-- The ministries and state concerns that own the sector systems, names in three languages.
with

ministries as (

    select * from {{ ref('ref_ministries') }}

),

final as (

    select
        ministries.ministry_id,
        any_value(ministries.name_tk) as name_tk,
        any_value(ministries.name_ru) as name_ru,
        any_value(ministries.name_en) as name_en,
        {{ string_agg_sorted('ministries.sector', "', '") }} as sectors

    from ministries
    group by ministries.ministry_id

)

select * from final
