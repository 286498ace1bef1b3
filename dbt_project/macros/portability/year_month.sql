{#- A date's month as text, 'YYYY-MM' (used in row identifiers). -#}
{% macro year_month(date_value) -%}
    {{ return(adapter.dispatch('year_month', 'maglumat')(date_value)) }}
{%- endmacro %}

{% macro default__year_month(date_value) -%}
    strftime({{ date_value }}, '%Y-%m')
{%- endmacro %}

{% macro spark__year_month(date_value) -%}
    date_format({{ date_value }}, 'yyyy-MM')
{%- endmacro %}
