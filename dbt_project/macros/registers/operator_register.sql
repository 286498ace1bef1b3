{#-
    An API system's operator list in the shape every sector gives dim_enterprises: the latest
    entry of each operator in any landed copy of the list, so that an operator later dropped
    still names its old reports. Telecommunications and transport read the same kind of API.
-#}
{% macro operator_register(operators_model, system_name, sector, ministry) -%}

with

operators as (

    select * from {{ ref(operators_model) }}

),

ranked as (

    select
        operators.*,
        row_number() over (
            partition by operators.operator_code
            order by operators.extracted_at desc, operators.updated_at desc
        ) as entry_rank

    from operators

),

final as (

    select
        cast('{{ system_name }}:' || operator_code as string) as enterprise_id,
        cast(operator_name_tk as string) as enterprise_name,
        cast('{{ sector }}' as string) as sector,
        cast('{{ ministry }}' as string) as ministry,
        cast(province_code as string) as province_code,
        cast(null as string) as district_code

    from ranked
    where entry_rank = 1

)

select * from final

{%- endmacro %}
