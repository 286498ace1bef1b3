-- The management indicator catalogue (dbt_project/indicators/*.yml) as a dimension: what each
-- indicator means in Turkmen, Russian and English, how it is computed and judged.
with

catalogue as (

    {{ indicator_catalogue_rows() }}

),

ministries as (

    select * from {{ ref('dim_ministries') }}

),

final as (

    select
        catalogue.indicator_id,
        catalogue.name_tk,
        catalogue.name_ru,
        catalogue.name_en,
        catalogue.description_tk,
        catalogue.description_ru,
        catalogue.description_en,
        catalogue.sector,
        catalogue.ministry_id,
        ministries.name_en as ministry_name_en,
        catalogue.source_model,
        catalogue.numerator_expression,
        catalogue.denominator_expression,
        catalogue.breakdown_expression,
        catalogue.filter_expression,
        catalogue.population_tk,
        catalogue.population_ru,
        catalogue.population_en,
        catalogue.factor,
        catalogue.unit,
        catalogue.aggregation,
        catalogue.time_aggregation,
        catalogue.percentile,
        catalogue.periodicity,
        catalogue.target_type,
        catalogue.target_value,
        catalogue.target_source,
        catalogue.target_measure_expression,
        catalogue.direction,
        catalogue.threshold_basis,
        catalogue.green_threshold,
        catalogue.amber_threshold

    from catalogue
    left join ministries
        on catalogue.ministry_id = ministries.ministry_id

)

select * from final
