{#- Whole minutes from start_time to end_time (end minus start). -#}
{% macro minutes_between(start_time, end_time) -%}
    {{ return(adapter.dispatch('minutes_between', 'maglumat')(start_time, end_time)) }}
{%- endmacro %}

{% macro default__minutes_between(start_time, end_time) -%}
    date_diff('minute', {{ start_time }}, {{ end_time }})
{%- endmacro %}

{% macro spark__minutes_between(start_time, end_time) -%}
    timestampdiff(minute, {{ start_time }}, {{ end_time }})
{%- endmacro %}
