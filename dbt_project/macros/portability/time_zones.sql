{#- Time zones: instants (timestamptz) are stored in UTC; dates are taken in the local time of
    the ministry or system (a time_zone expression, e.g. "'Asia/Ashgabat'" or a column). -#}

{#- The wall-clock time in time_zone of the instant timestamp_value. -#}
{% macro local_time(timestamp_value, time_zone) -%}
    {{ return(adapter.dispatch('local_time', 'maglumat')(timestamp_value, time_zone)) }}
{%- endmacro %}

{% macro default__local_time(timestamp_value, time_zone) -%}
    ({{ timestamp_value }} at time zone {{ time_zone }})
{%- endmacro %}

{% macro spark__local_time(timestamp_value, time_zone) -%}
    from_utc_timestamp({{ timestamp_value }}, {{ time_zone }})
{%- endmacro %}

{#- The instant at which the clocks of time_zone show local_value (a timestamp without zone). -#}
{% macro instant_at_local_time(local_value, time_zone) -%}
    {{ return(adapter.dispatch('instant_at_local_time', 'maglumat')(local_value, time_zone)) }}
{%- endmacro %}

{% macro default__instant_at_local_time(local_value, time_zone) -%}
    timezone({{ time_zone }}, {{ local_value }})
{%- endmacro %}

{% macro spark__instant_at_local_time(local_value, time_zone) -%}
    to_utc_timestamp({{ local_value }}, {{ time_zone }})
{%- endmacro %}
