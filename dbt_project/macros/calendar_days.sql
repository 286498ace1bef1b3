{#- Every day of the project's calendar (vars calendar_start_date .. calendar_end_date), as
    column `calendar_date`. -#}
{% macro calendar_days() -%}
    {{ date_series("'" ~ var('calendar_start_date') ~ "'", "'" ~ var('calendar_end_date') ~ "'") }}
{%- endmacro %}
