{#- One row per day from start_date to end_date (inclusive), as column `calendar_date`.
    Dispatched, so that engines without generate_series (Spark) get their own version. -#}
{% macro date_series(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_series', 'maglumat')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__date_series(start_date, end_date) -%}
    select cast(generated.calendar_date as date) as calendar_date
    from generate_series(
        cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day
    ) as generated (calendar_date)
{%- endmacro %}

{% macro spark__date_series(start_date, end_date) -%}
    select explode(
        sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)
    ) as calendar_date
{%- endmacro %}
