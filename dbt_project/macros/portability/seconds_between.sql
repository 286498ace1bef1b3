{#- Seconds from start_time to end_time (end minus start), fractional, as a double. -#}
{% macro seconds_between(start_time, end_time) -%}
    {{ return(adapter.dispatch('seconds_between', 'maglumat')(start_time, end_time)) }}
{%- endmacro %}

{% macro default__seconds_between(start_time, end_time) -%}
    extract(epoch from {{ end_time }} - {{ start_time }})
{%- endmacro %}

{% macro spark__seconds_between(start_time, end_time) -%}
    cast(
        unix_micros(cast({{ end_time }} as timestamp))
        - unix_micros(cast({{ start_time }} as timestamp))
        as double
    ) / 1000000
{%- endmacro %}
