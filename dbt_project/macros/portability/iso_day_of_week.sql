{#- Day of the week, ISO numbering: Monday 1 ... Sunday 7. -#}
{% macro iso_day_of_week(date_value) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'maglumat')(date_value)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_value) -%}
    isodow({{ date_value }})
{%- endmacro %}

{% macro spark__iso_day_of_week(date_value) -%}
    extract(dayofweek_iso from {{ date_value }})
{%- endmacro %}
