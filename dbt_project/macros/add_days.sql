{#- date_value plus a whole number of days. -#}
{% macro add_days(date_value, days) -%}
    {{ return(adapter.dispatch('add_days', 'maglumat')(date_value, days)) }}
{%- endmacro %}

{% macro default__add_days(date_value, days) -%}
    cast({{ date_value }} + cast({{ days }} as integer) as date)
{%- endmacro %}

{% macro spark__add_days(date_value, days) -%}
    date_add({{ date_value }}, cast({{ days }} as int))
{%- endmacro %}
