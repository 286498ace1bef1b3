{#- Generated from the models/staging/*/stg_*__enterprises.sql files by pipelines/indicators/generate.py; do not edit: run `.venv/bin/python -m pipelines.indicators.generate`. -#}
{% macro sector_enterprise_models() -%}
{{ return([
    'stg_chemical__enterprises',
    'stg_construction__enterprises',
    'stg_fuel_energy__enterprises',
    'stg_medicine__enterprises',
    'stg_processing__enterprises',
    'stg_telecom__enterprises',
    'stg_textile__enterprises',
    'stg_transport__enterprises',
]) }}
{%- endmacro %}
