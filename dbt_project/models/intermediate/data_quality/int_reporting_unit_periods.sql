-- One row per reporting unit (district, plant, facility, project, operator) of a sector system
-- and reporting period in which its report was due: whether it arrived. Who reports where is
-- declared under `units` in dbt_project/indicators/data_quality.yml. A system that says when a
-- report is due (`expected`) is taken at its word; for the others a unit is due every period in
-- which its system delivered, once it has reported in the twelve months up to that period, the
-- way a statistics office keeps its register of respondents. Nothing is due after the last
-- period the system has reports for.
{#- Var unit_systems (optional) narrows the model to some systems, for unit tests. #}
{%- set only = var('unit_systems', none) %}
{%- set systems = [] %}
{%- for delivery in source_delivery_catalogue() %}
    {%- if delivery.units and (only is none or delivery.system in only) %}
        {%- do systems.append(delivery) %}
    {%- endif %}
{%- endfor %}
with
{%- for system in systems %}

    {{ system.system }}__rows as (

        select * from {{ ref(system.units.model) }}

    ),
{%- endfor %}

-- Each unit and period once, whatever the grain of the mart (products, species ...).
unit_periods as (
    {%- for system in systems %}
        {%- set units = system.units %}

        select
            '{{ system.system }}' as system_name,
            '{{ units.unit_type }}' as unit_type,
            cast({{ units.unit }} as string) as unit_id,
            cast({{ units.period }} as date) as period_start,
            {{ 'true' if units.expected else 'false' }} as is_expectation_declared,
            max(cast({{ units.get('enterprise') or 'null' }} as string)) as enterprise_id,
            max(cast({{ units.get('province') or 'null' }} as string)) as province_code,
            max(cast({{ units.get('district') or 'null' }} as string)) as district_code,
            max(case when {{ units.get('expected') or 'false' }} then 1 else 0 end)
                as is_declared_due,
            max(case when {{ units.reported }} then 1 else 0 end) as is_reported

        from {{ system.system }}__rows
        where {{ units.unit }} is not null
        group by
            cast({{ units.unit }} as string),
            cast({{ units.period }} as date)
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

reported as (

    select * from unit_periods
    where unit_periods.is_reported = 1

),

-- Periods in which a system without declared expectations delivered anything.
delivered_periods as (

    select distinct
        reported.system_name,
        reported.period_start

    from reported
    where not reported.is_expectation_declared

),

-- The register: units that reported in the twelve months up to each delivered period.
registered as (

    select distinct
        delivered_periods.system_name,
        delivered_periods.period_start,
        reported.unit_id

    from delivered_periods
    inner join reported
        on
            delivered_periods.system_name = reported.system_name
            and delivered_periods.period_start >= reported.period_start
            and cast(delivered_periods.period_start - interval 12 month as date)
            < reported.period_start

),

-- Where a unit sits: as its latest report says.
unit_places as (

    select
        reported.system_name,
        reported.unit_id,
        reported.unit_type,
        reported.enterprise_id,
        reported.province_code,
        reported.district_code,
        row_number() over (
            partition by reported.system_name, reported.unit_id
            order by reported.period_start desc
        ) as recency_rank

    from reported

),

due_from_register as (

    select
        registered.system_name,
        unit_places.unit_type,
        registered.unit_id,
        unit_places.enterprise_id,
        unit_places.province_code,
        unit_places.district_code,
        registered.period_start,
        coalesce(unit_periods.is_reported, 0) as is_reported

    from registered
    inner join unit_places
        on
            registered.system_name = unit_places.system_name
            and registered.unit_id = unit_places.unit_id
            and unit_places.recency_rank = 1
    left join unit_periods
        on
            registered.system_name = unit_periods.system_name
            and registered.unit_id = unit_periods.unit_id
            and registered.period_start = unit_periods.period_start

),

due_as_declared as (

    select
        unit_periods.system_name,
        unit_periods.unit_type,
        unit_periods.unit_id,
        unit_periods.enterprise_id,
        unit_periods.province_code,
        unit_periods.district_code,
        unit_periods.period_start,
        unit_periods.is_reported

    from unit_periods
    where unit_periods.is_expectation_declared and unit_periods.is_declared_due = 1

),

-- Nothing is due after the last period a system has any report for (plans run ahead).
reach as (

    select
        reported.system_name,
        max(reported.period_start) as last_reported_period

    from reported
    group by reported.system_name

),

due as (

    select due_rows.*
    from (
        select * from due_from_register
        union all
        select * from due_as_declared
    ) as due_rows
    inner join reach
        on
            due_rows.system_name = reach.system_name
            and due_rows.period_start <= reach.last_reported_period

),

final as (

    select
        due.system_name || '|' || due.unit_id || '|' || cast(due.period_start as string)
            as unit_period_id,
        due.*

    from due

)

select * from final
