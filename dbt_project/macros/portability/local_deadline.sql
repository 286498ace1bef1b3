{#- A local timestamp (without zone): day_value at the time of day time_text ('HH:MM'),
    plus a whole number of hours. -#}
{% macro local_deadline(day_value, time_text, plus_hours) -%}
    {{ return(adapter.dispatch('local_deadline', 'maglumat')(day_value, time_text, plus_hours)) }}
{%- endmacro %}

{% macro default__local_deadline(day_value, time_text, plus_hours) -%}
    {{ day_value }} + cast({{ time_text }} as time) + to_hours({{ plus_hours }})
{%- endmacro %}

{% macro spark__local_deadline(day_value, time_text, plus_hours) -%}
    timestampadd(
        hour,
        {{ plus_hours }},
        cast(concat(cast({{ day_value }} as string), ' ', {{ time_text }}) as timestamp)
    )
{%- endmacro %}
