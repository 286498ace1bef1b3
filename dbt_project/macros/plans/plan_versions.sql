{#-
    The columns every plan-versions model adds to its versions (one row per version, with
    `approved_date`): when the version was superseded (the next version's approval; null for
    the latest), whether it is the original and whether it is the latest.

    `keys` name what one plan is for (e.g. plant, product and month); `version` orders its
    versions. The original is the first version received, or, where the source numbers its
    versions from a known first one (`first_version`), that one only: a plan whose first
    version never arrived then has no original rather than a wrong one.
-#}
{% macro plan_version_columns(relation, keys, version, first_version=none) -%}
    {%- set plan = [] -%}
    {%- for key in keys %}{% do plan.append(relation ~ '.' ~ key) %}{% endfor -%}
    lead({{ relation }}.approved_date) over (
        partition by {{ plan | join(', ') }}
        order by {{ relation }}.{{ version }}
    ) as superseded_date,
    {%- if first_version is none %}
    {{ relation }}.{{ version }}
    = min({{ relation }}.{{ version }}) over (partition by {{ plan | join(', ') }})
        as is_original,
    {%- else %}
    {{ relation }}.{{ version }} = {{ first_version }} as is_original,
    {%- endif %}
    {{ relation }}.{{ version }}
    = max({{ relation }}.{{ version }}) over (partition by {{ plan | join(', ') }})
        as is_latest
{%- endmacro %}
