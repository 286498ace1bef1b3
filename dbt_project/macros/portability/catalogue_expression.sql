{#- A SQL expression from an indicator catalogue file (dbt_project/indicators/*.yml): plain SQL
    text, or a time zone conversion written as data, so that the catalogue names no
    engine-specific function:
      {local_of_utc: <instant>, time_zone: <zone>}          the wall-clock time of the instant
      {utc_of_local: <local timestamp>, time_zone: <zone>}  the instant of that wall-clock time
      {days_from: <date>, days_to: <date>}                   whole days from one date to the other -#}
{% macro catalogue_expression(value) -%}
    {%- if value is mapping and 'local_of_utc' in value -%}
        {{ local_time(value['local_of_utc'], "'" ~ value['time_zone'] ~ "'") }}
    {%- elif value is mapping and 'days_from' in value -%}
        {{ days_between(value['days_from'], value['days_to']) }}
    {%- elif value is mapping and 'utc_of_local' in value -%}
        {{ instant_at_local_time(value['utc_of_local'], "'" ~ value['time_zone'] ~ "'") }}
    {%- else -%}
        {{ value }}
    {%- endif -%}
{%- endmacro %}

{#- The same expression as a reader would write it, for the catalogue's documentation. -#}
{% macro catalogue_expression_text(value) -%}
    {%- if value is mapping and 'local_of_utc' in value -%}
        {{ value['local_of_utc'] }} in local time ({{ value['time_zone'] }})
    {%- elif value is mapping and 'days_from' in value -%}
        days from {{ value['days_from'] }} to {{ value['days_to'] }}
    {%- elif value is mapping and 'utc_of_local' in value -%}
        {{ value['utc_of_local'] }} ({{ value['time_zone'] }} local time) as an instant
    {%- else -%}
        {{ value }}
    {%- endif -%}
{%- endmacro %}
