{#-
    A sector's indicator values are rebuilt by period, from the days that changed.

    int_indicator_days_<sector> (a table, rebuilt whenever the sector's sources change) holds,
    for every indicator, each date of its base rows (the rows every period is made from, see
    indicator_base_rows) with their count and a fingerprint: the sum of the rows' hashes, the
    same whatever their order. After each build of the values, audit.dbt_indicator_days__<sector>
    keeps the days they were made from. The next build compares the two: a day whose rows
    differ in any way (a new day, a corrected one, one whose enterprise moved district, a plan
    restated, a prior-year row shifted into a later year) changes every period that contains
    it: its day, week, month, quarter and year, the years to date through its month and the
    later months of its year, and, for campaigns, the whole campaign. Those periods
    (audit.dbt_indicator_refresh__<sector>) are deleted from the values and made again from every
    row of their days; the rest of the table is not read or written.

    Nothing here depends on which batch brought a row, so a register, a plan or a steward's
    decision reaches the values the same way as a new day. A full refresh (the first build, a
    changed project, `maglumat run --full-rebuild`) makes every period, and so does a build
    that finds no days kept from the last one.
-#}

{#- The catalogue entries of one sector, or those the `indicator_ids` var names. -#}
{% macro indicators_of_sector(sector) -%}
    {%- set only = var('indicator_ids', none) -%}
    {%- set indicators = [] -%}
    {%- for ind in indicator_catalogue() -%}
        {%- if ind.sector == sector and (only is none or ind.id in only) -%}
            {%- do indicators.append(ind) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(indicators) }}
{%- endmacro %}

{#- The period types an entry is computed at (all of its periodicity, unless narrowed). -#}
{% macro indicator_period_types(ind) -%}
    {%- set period_filter = var('indicator_period_types', none) -%}
    {{ return(ind.periodicity | select('in', period_filter or ind.periodicity) | list) }}
{%- endmacro %}

{% macro indicator_days_table(sector) -%}
    audit.dbt_indicator_days__{{ sector }}
{%- endmacro %}

{% macro indicator_refresh_table(sector) -%}
    audit.dbt_indicator_refresh__{{ sector }}
{%- endmacro %}

{#- Each indicator's base rows by date, counted and fingerprinted. -#}
{% macro indicator_days_for_sector(sector) -%}
    {%- set indicators = indicators_of_sector(sector) -%}
with
{% for ind in indicators %}
{{ indicator_base_rows(ind) }},
{% endfor %}
final as (
    {%- for ind in indicators %}

    select
        '{{ ind.id }}' as indicator_id,
        base_date,
        is_current,
        count(*) as row_count,
        sum(hash(
            {%- if ind.aggregation == 'precomputed' %}
            region_level,
            region_id,
            {%- endif %}
            province_code,
            district_code,
            enterprise_id,
            breakdown,
            entity_id,
            numerator,
            denominator,
            target_amount,
            is_restated,
            source_value
        ))
        {#- The entry's definition too: a changed formula, factor or periodicity changes every
            day of it, even where its rows do not. #}
        + hash({{ indicator_literal(tojson(ind, sort_keys=true)) }}) as row_fingerprint
    from ind_{{ ind.id }}__base
    group by base_date, is_current
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

)

select * from final
{%- endmacro %}

{#- Every period of the sector, as a refresh of the whole (no days kept to compare with). -#}
{% macro indicator_whole_refresh(sector) -%}
    {%- set indicators = indicators_of_sector(sector) -%}
    {%- for ind in indicators %}
    select
        '{{ ind.id }}' as indicator_id,
        cast(null as varchar) as period_type,
        cast(null as date) as period_start,
        true as is_whole
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- The periods whose days changed since the days kept by the last build of the values. -#}
{% macro indicator_changed_periods(sector) -%}
    {%- set indicators = indicators_of_sector(sector) -%}
    {%- set by_type = {} -%}
    {%- for ind in indicators -%}
        {%- for period_type in indicator_period_types(ind) -%}
            {%- do by_type.setdefault(period_type, []).append(ind.id) -%}
        {%- endfor -%}
    {%- endfor -%}
with

current_days as (

    select * from {{ ref('int_indicator_days_' ~ sector) }}

),

kept_days as (

    select * from {{ indicator_days_table(sector) }}

),

changed_days as (

    select distinct
        coalesce(current_days.indicator_id, kept_days.indicator_id) as indicator_id,
        coalesce(current_days.base_date, kept_days.base_date) as base_date
    from current_days
    full outer join kept_days
        on
            current_days.indicator_id = kept_days.indicator_id
            and current_days.base_date is not distinct from kept_days.base_date
            and current_days.is_current = kept_days.is_current
    where
        current_days.row_fingerprint is distinct from kept_days.row_fingerprint
        or current_days.row_count is distinct from kept_days.row_count

),

periods as (

    {#- A row without a date belongs to a period without a start: all is made again. #}
    select
        indicator_id,
        cast(null as varchar) as period_type,
        cast(null as date) as period_start,
        true as is_whole
    from changed_days
    where base_date is null
    {%- for period_type, ids in by_type.items() %}

    union all

    select
        changed_days.indicator_id,
        '{{ period_type }}' as period_type,
        {%- if period_type == 'campaign' %}
        cast(null as date) as period_start,
        true as is_whole
        {%- elif period_type == 'ytd' %}
        cast(
            cast(date_trunc('month', changed_days.base_date) as date) + to_months(later.months)
            as date
        ) as period_start,
        false as is_whole
        {%- elif period_type == 'day' %}
        changed_days.base_date as period_start,
        false as is_whole
        {%- else %}
        cast(date_trunc('{{ period_type }}', changed_days.base_date) as date) as period_start,
        false as is_whole
        {%- endif %}
    from changed_days
    {%- if period_type == 'ytd' %}
    {#- A month's change reaches the years to date through it and through later months. #}
    cross join range(12) as later (months)
    {%- endif %}
    where
        changed_days.base_date is not null
        and changed_days.indicator_id in (
            {%- for indicator_id in ids %}'{{ indicator_id }}'{{ ', ' if not loop.last }}{% endfor -%}
        )
        {%- if period_type == 'ytd' %}
        and extract(month from changed_days.base_date) + later.months <= 12
        {%- endif %}
    {%- endfor %}

)

select distinct
    indicator_id,
    cast(period_type as varchar) as period_type,
    cast(period_start as date) as period_start,
    is_whole
from periods
{%- endmacro %}

{#- Pre-hook: decide which periods this build makes (DuckDB only; elsewhere a table). -#}
{% macro indicator_refresh_hook(sector) -%}
    {%- if target.type == 'duckdb' and execute and is_incremental() -%}
        {%- for narrowing in ('indicator_ids', 'indicator_period_types', 'indicator_levels') -%}
            {%- if var(narrowing, none) is not none -%}
                {{ exceptions.raise_compiler_error(
                    this ~ " is made by period from the days kept by its last build: a build"
                    " narrowed by the var " ~ narrowing ~ " would leave them out of step; give"
                    " dbt --full-refresh") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if target.type == 'duckdb' and execute -%}
        {%- set kept = adapter.get_relation(
            database=this.database, schema='audit', identifier='dbt_indicator_days__' ~ sector) -%}
create or replace table {{ indicator_refresh_table(sector) }} as
        {%- if is_incremental() and kept is not none %}
{{ indicator_changed_periods(sector) }}
        {%- else %}
{{ indicator_whole_refresh(sector) }}
        {%- endif %}
    {%- else -%}
select 1
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook: delete the periods this build makes again. -#}
{% macro indicator_refresh_delete_hook(sector) -%}
    {%- if target.type == 'duckdb' and execute and is_incremental() -%}
delete from {{ this }} as indicator_values
using {{ indicator_refresh_table(sector) }} as refresh
where
    indicator_values.indicator_id = refresh.indicator_id
    and (
        (refresh.is_whole and (refresh.period_type is null
            or indicator_values.period_type = refresh.period_type))
        or (not refresh.is_whole and indicator_values.period_type = refresh.period_type
            and indicator_values.period_start = refresh.period_start)
    )
    {%- else -%}
select 1
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook: an indicator no longer in the catalogue leaves with its rows. -#}
{% macro indicator_retired_delete_hook(sector) -%}
    {%- if target.type == 'duckdb' and execute and is_incremental() -%}
delete from {{ this }}
where indicator_id not in (
    {%- for ind in indicators_of_sector(sector) %}'{{ ind.id }}'{{ ', ' if not loop.last }}{% endfor -%}
)
    {%- else -%}
select 1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: keep the days the values were made from, for the next build to compare. -#}
{% macro indicator_days_kept_hook(sector) -%}
    {%- if target.type == 'duckdb' and execute -%}
create or replace table {{ indicator_days_table(sector) }} as
select * from {{ ref('int_indicator_days_' ~ sector) }}
    {%- else -%}
select 1
    {%- endif -%}
{%- endmacro %}

{#- In the values model: the periods to make and the days they span. -#}
{% macro indicator_refresh_ctes(sector) -%}
indicator_refresh as (

    select * from {{ indicator_refresh_table(sector) }}

),

indicator_refresh_days as (

    select distinct
        ranges.indicator_id,
        cast(unnest(generate_series(ranges.range_start, ranges.range_end, interval 1 day)) as date)
            as base_date
    from (
        select
            indicator_id,
            case period_type
                when 'ytd' then cast(date_trunc('year', period_start) as date)
                else period_start
            end as range_start,
            case period_type
                when 'day' then period_start
                when 'week' then period_start + 6
                when 'quarter' then cast(period_start + interval 3 month as date) - 1
                when 'year' then cast(period_start + interval 1 year as date) - 1
                else cast(period_start + interval 1 month as date) - 1
            end as range_end
        from indicator_refresh
        where not is_whole
    ) as ranges

)
{%- endmacro %}
