{#- A catalogue text as a quoted SQL string literal (quotes doubled), or null. -#}
{% macro indicator_literal(text) -%}
    {%- if text is none -%}
        cast(null as string)
    {%- else -%}
        '{{ (text | string).replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}

{#- A catalogue number as a SQL double, or null. -#}
{% macro indicator_number(number) -%}
    {%- if number is none -%}
        cast(null as double)
    {%- else -%}
        cast({{ number }} as double)
    {%- endif -%}
{%- endmacro %}

{#- The sectors of the catalogue, in catalogue order. -#}
{% macro indicator_sectors() -%}
    {%- set found = [] -%}
    {%- for ind in indicator_catalogue() -%}
        {%- if ind.sector not in found -%}
            {%- do found.append(ind.sector) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- The catalogue as rows: one select of literals per indicator, for dim_indicators. -#}
{% macro indicator_catalogue_rows() -%}
    {%- for ind in indicator_catalogue() %}
    {%- set target = ind.target %}
    {%- set thresholds = ind.get('thresholds') or {} %}
    {%- set population = ind.get('population') or {} %}
    select
        {{ indicator_literal(ind.id) }} as indicator_id,
        {{ indicator_literal(ind.name.tk) }} as name_tk,
        {{ indicator_literal(ind.name.ru) }} as name_ru,
        {{ indicator_literal(ind.name.en) }} as name_en,
        {{ indicator_literal(ind.description.tk) }} as description_tk,
        {{ indicator_literal(ind.description.ru) }} as description_ru,
        {{ indicator_literal(ind.description.en) }} as description_en,
        {{ indicator_literal(ind.sector) }} as sector,
        {{ indicator_literal(ind.ministry_id) }} as ministry_id,
        {{ indicator_literal(ind.source) }} as source_model,
        {{ indicator_literal(catalogue_expression_text(ind.numerator) | trim) }} as numerator_expression,
        {{ indicator_literal(ind.get('denominator')) }} as denominator_expression,
        {{ indicator_literal(ind.get('breakdown')) }} as breakdown_expression,
        {{ indicator_literal(ind.get('filter')) }} as filter_expression,
        {{ indicator_literal(population.get('tk')) }} as population_tk,
        {{ indicator_literal(population.get('ru')) }} as population_ru,
        {{ indicator_literal(population.get('en')) }} as population_en,
        {{ indicator_number(ind.factor) }} as factor,
        {{ indicator_literal(ind.unit) }} as unit,
        {{ indicator_literal(ind.aggregation) }} as aggregation,
        {{ indicator_literal(ind.get('time_aggregation', 'sum')) }} as time_aggregation,
        {{ indicator_number(ind.get('percentile')) }} as percentile,
        {{ indicator_literal(ind.periodicity | join(', ')) }} as periodicity,
        {{ indicator_literal(target.type) }} as target_type,
        {{ indicator_number(target.get('value')) }} as target_value,
        {{ indicator_literal(target.get('source')) }} as target_source,
        {{ indicator_literal(ind.get('target_measure')) }} as target_measure_expression,
        {{ indicator_literal(ind.direction) }} as direction,
        {{ indicator_literal(thresholds.get('basis')) }} as threshold_basis,
        {{ indicator_number(thresholds.get('green')) }} as green_threshold,
        {{ indicator_number(thresholds.get('amber')) }} as amber_threshold
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#-
    A wide monthly mart of one sector: one row per month, region and enterprise, one column per
    indicator (its value), read from fct_indicator_values and fct_enterprise_indicator_values so
    they always agree.
-#}
{% macro indicator_wide_mart(sector, indicator_ids, ytd_indicator_ids=[]) -%}
with

region_values as (

    select * from {{ ref('fct_indicator_values') }}

),

enterprise_values as (

    select * from {{ ref('fct_enterprise_indicator_values') }}

),

indicator_values as (

    select * from region_values
    union all
    select * from enterprise_values

),

sector_values as (

    select * from indicator_values
    where
        indicator_values.period_type in ('month', 'ytd')
        and indicator_values.breakdown is null
        and indicator_values.indicator_id in (
            {%- for indicator_id in indicator_ids %}
            {{ indicator_literal(indicator_id) }}{{ ',' if not loop.last }}
            {%- endfor %}
        )

),

final as (

    select
        cast(sector_values.period_start as string) || '|' || sector_values.region_id || '|'
        || coalesce(sector_values.enterprise_id, '-') as indicator_row_id,
        sector_values.period_start,
        sector_values.region_level,
        sector_values.region_id,
        sector_values.enterprise_id,
        {{ string_agg_sorted(
            "case when sector_values.is_partial_period and sector_values.period_type = 'month'"
            ~ " then sector_values.indicator_id end",
            "', '",
            distinct=true
        ) }} as partial_indicator_ids,
        {%- for indicator_id in indicator_ids %}
        max(case when sector_values.indicator_id = {{ indicator_literal(indicator_id) }}
            and sector_values.period_type = 'month'
            then sector_values.value end) as {{ indicator_id }}
            {{- ',' if not loop.last or ytd_indicator_ids }}
        {%- endfor %}
        {%- for indicator_id in ytd_indicator_ids %}
        max(case when sector_values.indicator_id = {{ indicator_literal(indicator_id) }}
            and sector_values.period_type = 'ytd'
            then sector_values.value end) as {{ indicator_id }}_ytd{{ ',' if not loop.last }}
        {%- endfor %}

    from sector_values
    group by
        sector_values.period_start,
        sector_values.region_level,
        sector_values.region_id,
        sector_values.enterprise_id

)

select * from final
{%- endmacro %}
