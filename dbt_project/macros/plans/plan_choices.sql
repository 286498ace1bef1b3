{#-
    The three plans a month's fulfilment is measured against, as the CTEs `original_plans`,
    `latest_plans` and `in_force_plans` over a plan-versions CTE (see plan_version_columns):
    in force is the newest version approved by the last day of the month (`month`), so a later
    revision does not rewrite history. `keys` name one plan (the month among them).
-#}
{% macro plan_choices(versions, keys, version, month) -%}
original_plans as (

    select * from {{ versions }}
    where {{ versions }}.is_original

),

latest_plans as (

    select * from {{ versions }}
    where {{ versions }}.is_latest

),

in_force_plans as (

    select {{ versions }}.*
    from {{ versions }}
    where {{ versions }}.approved_date <= last_day({{ versions }}.{{ month }})
    qualify row_number() over (
            partition by
            {%- for key in keys %} {{ versions }}.{{ key }}{{ ',' if not loop.last }}{% endfor %}
            order by {{ versions }}.{{ version }} desc
        ) = 1

)
{%- endmacro %}
