{#- The distinct (or all) values of expression, sorted, joined with separator into one string.
    DuckDB orders inside the aggregate; Spark takes the order as WITHIN GROUP. -#}
{% macro string_agg_sorted(expression, separator, distinct=false) -%}
    {{ return(adapter.dispatch('string_agg_sorted', 'maglumat')(expression, separator, distinct)) }}
{%- endmacro %}

{% macro default__string_agg_sorted(expression, separator, distinct) -%}
    string_agg({{ 'distinct ' if distinct }}{{ expression }}, {{ separator }} order by {{ expression }})
{%- endmacro %}

{% macro spark__string_agg_sorted(expression, separator, distinct) -%}
    listagg({{ 'distinct ' if distinct }}{{ expression }}, {{ separator }})
    within group (order by {{ expression }})
{%- endmacro %}
