{#-
    Compile one catalogue entry (see dbt_project/indicators/*.yml and indicator_catalogue())
    into a select of the long indicator shape:
    indicator_id, period_type, period_start, region_level, region_id, enterprise_id, breakdown,
    numerator, denominator, value, target_amount, period_last_data_date (the period's last date
    with data, for the breakdown) and is_restated (a row of the value matches the entry's
    `restated_when`). The indicator's last date with data is its days' (indicator_days.sql).

    Steps: rows of the source mart at their own grain (base), plus the same rows a year later as
    the prior-year comparison (yoy_growth only); for sums and ratios, monthly partial sums of
    those rows (exact decimals) from which months, quarters, years and years to date roll up;
    one copy per period type (a year to date, one copy per later month of the same year); for
    levels ("last")
    only the rows of the last date with data in the period; for share_below_plan one row per
    enterprise and period; then one group by per region level. Ratios are sums of numerators
    over sums of denominators at every level; percentiles are recomputed from the rows.

    A daily build computes only the periods whose days changed (`refreshing`, see
    indicator_refresh.sql): the base keeps the days those periods span, and the periods made
    from them keep only those to refresh.
-#}

{% macro indicator_period_start(period_type, date_column) -%}
    {%- if period_type == 'day' -%}
        {{ date_column }}
    {%- elif period_type == 'campaign' -%}
        cast(min({{ date_column }}) over (partition by breakdown) as date)
    {%- else -%}
        cast(date_trunc('{{ period_type }}', {{ date_column }}) as date)
    {%- endif -%}
{%- endmacro %}

{#- The sum of a double column that every engine adds up to the same double: each value taken
    to six decimals (the marts' amounts have at most three) and added up as an exact decimal.
    A sum of doubles depends on the order of the rows, which differs between engines (and
    between runs), and the value's rounding to six decimals would turn that last bit into a
    difference of 0.000001 whenever the true value ends in a 5 just past the sixth decimal. -#}
{% macro indicator_exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 6))) as double)
{%- endmacro %}

{#- A double rounded half up to six decimals by plain arithmetic: round() of a double differs
    between the engines (DuckDB rounds the binary value, Spark its shortest decimal spelling). -#}
{% macro indicator_rounded(expression) -%}
    cast(floor({{ expression }} * 1000000 + 0.5) as double) / 1000000
{%- endmacro %}

{% macro indicator_aggregates(ind) -%}
    {%- set factor = ind.factor | string -%}
        max(last_current_date) as period_last_data_date,
        coalesce(bool_or(is_restated), false) as is_restated,
    {%- if ind.aggregation in ('ratio', 'share_below_plan') -%}
        {{ indicator_exact_sum('numerator') }} as numerator,
        {{ indicator_exact_sum('denominator') }} as denominator,
        {{ factor }} * {{ indicator_exact_sum('numerator') }}
        / nullif({{ indicator_exact_sum('denominator') }}, 0) as value,
    {%- elif ind.aggregation == 'sum' -%}
        {{ indicator_exact_sum('numerator') }} as numerator,
        cast(null as double) as denominator,
        {{ factor }} * {{ indicator_exact_sum('numerator') }} as value,
    {%- elif ind.aggregation == 'per_entity' -%}
        {{ indicator_exact_sum('numerator') }} as numerator,
        cast(count(distinct entity_id) as double) as denominator,
        {{ factor }} * {{ indicator_exact_sum('numerator') }}
        / nullif(count(distinct entity_id), 0) as value,
    {%- elif ind.aggregation == 'yoy_growth' -%}
        {{ indicator_exact_sum('case when is_current then numerator end') }} as numerator,
        {{ indicator_exact_sum('case when not is_current then numerator end') }} as denominator,
        {{ factor }} * (
            {{ indicator_exact_sum('case when is_current then numerator end') }}
            / nullif({{ indicator_exact_sum('case when not is_current then numerator end') }}, 0)
            - 1
        ) as value,
    {%- elif ind.aggregation == 'percentile' -%}
        cast(null as double) as numerator,
        cast(count(numerator) as double) as denominator,
        {{ factor }} * percentile_cont({{ ind.percentile }}) within group (order by numerator)
            as value,
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            'indicator ' ~ ind.id ~ ': unknown aggregation ' ~ ind.aggregation) }}
    {%- endif %}
    {%- if ind.aggregation == 'ratio' %}
        {#- A ratio's measure target is in the numerator's unit: judged like the numerator. #}
        {{ factor }} * {{ indicator_exact_sum('target_amount') }}
        / nullif({{ indicator_exact_sum('denominator') }}, 0) as target_amount
    {%- else %}
        {{ factor }} * {{ indicator_exact_sum('target_amount') }} as target_amount
    {%- endif %}
{%- endmacro %}

{#- The rows of one catalogue entry at their own grain, named `ind_<id>__<name>` (with the
    CTE `ind_<id>__source` before it): the base every period is made from. -#}
{% macro indicator_base_rows(ind, name='base') -%}
    {%- set cte = 'ind_' ~ ind.id -%}
    {%- set is_precomputed = ind.aggregation == 'precomputed' %}
{{ cte }}__source as (

    select
        cast({{ ind.date }} as date) as base_date,
        {%- if is_precomputed %}
        cast({{ ind.region_level }} as string) as region_level,
        cast({{ ind.region_id }} as string) as region_id,
        {%- endif %}
        cast({{ ind.get('province') or 'null' }} as string) as province_code,
        cast({{ ind.get('district') or 'null' }} as string) as district_code,
        cast({{ ind.get('enterprise') or 'null' }} as string) as enterprise_id,
        cast({{ ind.get('breakdown') or 'null' }} as string) as breakdown,
        cast({{ ind.get('entity') or 'null' }} as string) as entity_id,
        cast({{ catalogue_expression(ind.numerator) }} as double) as numerator,
        cast({{ ind.get('denominator') or 'null' }} as double) as denominator,
        cast({{ ind.get('target_measure') or 'null' }} as double) as target_amount,
        coalesce({{ ind.get('restated_when') or 'false' }}, false) as is_restated,
        cast({{ ind.get('value') or 'null' }} as double) as source_value

    from {{ ref(ind.source) }}
    {#- A row with neither numerator nor denominator reports nothing for this indicator. #}
    where
        ({{ ind.get('filter') or 'true' }})
        and coalesce(
            cast({{ catalogue_expression(ind.numerator) }} as double),
            cast({{ ind.get('denominator') or 'null' }} as double)
        ) is not null

),

{#- Enterprises without a province of their own in the mart take it from dim_enterprises. #}
{{ cte }}__{{ name }} as (

    select
        {{ cte }}__source.base_date,
        {%- if is_precomputed %}
        {{ cte }}__source.region_level,
        {{ cte }}__source.region_id,
        {%- endif %}
        coalesce({{ cte }}__source.province_code, enterprises.province_code) as province_code,
        case
            when {{ cte }}__source.province_code is null then enterprises.district_code
            else {{ cte }}__source.district_code
        end as district_code,
        {{ cte }}__source.enterprise_id,
        {{ cte }}__source.breakdown,
        {{ cte }}__source.entity_id,
        {{ cte }}__source.numerator,
        {{ cte }}__source.denominator,
        {{ cte }}__source.target_amount,
        {{ cte }}__source.is_restated,
        {{ cte }}__source.source_value,
        true as is_current

    from {{ cte }}__source
    left join {{ ref('dim_enterprises') }} as enterprises
        on {{ cte }}__source.enterprise_id = enterprises.enterprise_id
    {%- if ind.aggregation == 'yoy_growth' %}

    union all

    {#- The same rows one year later are the comparison base of that later period. #}
    select
        cast({{ cte }}__source.base_date + interval '1 year' as date) as base_date,
        coalesce({{ cte }}__source.province_code, enterprises.province_code) as province_code,
        case
            when {{ cte }}__source.province_code is null then enterprises.district_code
            else {{ cte }}__source.district_code
        end as district_code,
        {{ cte }}__source.enterprise_id,
        {{ cte }}__source.breakdown,
        {{ cte }}__source.entity_id,
        {{ cte }}__source.numerator,
        {{ cte }}__source.denominator,
        {{ cte }}__source.target_amount,
        {{ cte }}__source.is_restated,
        {{ cte }}__source.source_value,
        false as is_current

    from {{ cte }}__source
    left join {{ ref('dim_enterprises') }} as enterprises
        on {{ cte }}__source.enterprise_id = enterprises.enterprise_id
    {%- endif %}

)
{%- endmacro %}

{% macro indicator_values(ind, refreshing=false) -%}
    {%- set cte = 'ind_' ~ ind.id -%}
    {%- set is_precomputed = ind.aggregation == 'precomputed' -%}
    {%- set is_last = ind.get('time_aggregation', 'sum') == 'last' -%}
    {%- set period_types = indicator_period_types(ind) -%}
    {#- Sums and ratios of sums add up: their months, quarters, years and years to date come
        from monthly partial sums at the finest grain any level groups by, not from the
        fact's rows again. Percentiles, distinct counts, shares of entities, year-on-year
        growth and levels ("last") are computed from the rows. -#}
    {%- set rolls_up = ind.aggregation in ('ratio', 'sum') and not is_last -%}
    {%- set monthly_types = ['month', 'quarter', 'year', 'ytd'] -%}

{{ indicator_base_rows(ind, 'all_base' if refreshing else 'base') }},
{%- if refreshing %}

{#- Only the days of the periods to refresh; a whole refresh (a campaign, a day without a
    date) keeps every day. #}
{{ cte }}__base as (

    select * from {{ cte }}__all_base
    where
        exists (
            select 1 from indicator_refresh
            where indicator_refresh.indicator_id = '{{ ind.id }}' and indicator_refresh.is_whole
        )
        or base_date in (
            select indicator_refresh_days.base_date from indicator_refresh_days
            where indicator_refresh_days.indicator_id = '{{ ind.id }}'
        )

),
{%- endif %}

{%- if rolls_up %}

{#- The rows with their amounts as the exact decimals every sum adds (indicator_exact_sum). #}
{{ cte }}__exact as (

    select
        base_date,
        province_code,
        district_code,
        enterprise_id,
        breakdown,
        entity_id,
        cast(numerator as decimal(38, 6)) as numerator,
        cast(denominator as decimal(38, 6)) as denominator,
        cast(target_amount as decimal(38, 6)) as target_amount,
        is_restated,
        source_value,
        is_current

    from {{ cte }}__base

),

{#- One row per month and grain, dated its last day with data: the sums of a decimal add up
    to the same decimal in any grouping, so every level and period above the month is exact. #}
{{ cte }}__monthly as (

    select
        max(base_date) as base_date,
        province_code,
        district_code,
        enterprise_id,
        breakdown,
        cast(null as string) as entity_id,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        sum(target_amount) as target_amount,
        bool_or(is_restated) as is_restated,
        cast(null as double) as source_value,
        true as is_current

    from {{ cte }}__exact
    group by
        cast(date_trunc('month', base_date) as date),
        province_code,
        district_code,
        enterprise_id,
        breakdown

),
{%- endif %}

{{ cte }}__{{ 'all_periods' if refreshing else 'periods' }} as (
    {%- for period_type in period_types %}
    {%- if rolls_up and period_type in monthly_types %}
    {%- set rows = cte ~ '__monthly' %}
    {%- elif rolls_up %}
    {%- set rows = cte ~ '__exact' %}
    {%- else %}
    {%- set rows = cte ~ '__base' %}
    {%- endif %}
    {%- if period_type == 'ytd' %}

    {#- Year to date through each month with data: every earlier row of the same year. #}
    select
        'ytd' as period_type,
        through_months.through_month as period_start,
        {{ rows }}.*
    from {{ rows }}
    inner join (
        select distinct cast(date_trunc('month', base_date) as date) as through_month
        from {{ rows }}
        where is_current
    ) as through_months
        on
            extract(year from {{ rows }}.base_date)
            = extract(year from through_months.through_month)
            and cast(date_trunc('month', {{ rows }}.base_date) as date)
            <= through_months.through_month
    {%- else %}

    select
        '{{ period_type }}' as period_type,
        {{ indicator_period_start(period_type, 'base_date') }} as period_start,
        *
    from {{ rows }}
    {%- endif %}
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),
{%- if refreshing %}

{#- The periods to refresh: those of the days that changed, every one of them made whole
    by the days the base kept for it. #}
{{ cte }}__periods as (

    select * from {{ cte }}__all_periods as periods
    where
        exists (
            select 1 from indicator_refresh
            where
                indicator_refresh.indicator_id = '{{ ind.id }}'
                and indicator_refresh.is_whole
                and (
                    indicator_refresh.period_type is null
                    or indicator_refresh.period_type = periods.period_type
                )
        )
        or exists (
            select 1 from indicator_refresh
            where
                indicator_refresh.indicator_id = '{{ ind.id }}'
                and not indicator_refresh.is_whole
                and indicator_refresh.period_type = periods.period_type
                and indicator_refresh.period_start = periods.period_start
        )

),
{%- endif %}

{#-
    A period is reported up to its last date with current data: levels (stocks, head counts,
    cumulative progress) take that date's rows only, and a prior year counts up to the same
    day, so a year to date is compared with the same months of the year before.
#}
{{ cte }}__bounded as (

    select
        *,
        max(case when is_current then base_date end) over (
            partition by period_type, period_start, breakdown
        ) as last_current_date

    from {{ cte }}__periods

),

{{ cte }}__kept as (

    select * from {{ cte }}__bounded
    where
        last_current_date is not null
        and base_date {{ '=' if is_last else '<=' }} last_current_date

),
{%- if ind.aggregation == 'share_below_plan' %}

{#- One row per enterprise and period: below plan when its actual is under a positive plan. #}
{{ cte }}__per_entity as (

    select
        period_type,
        period_start,
        province_code,
        district_code,
        cast(null as string) as enterprise_id,
        breakdown,
        entity_id,
        case
            when
                {{ indicator_exact_sum('denominator') }} > 0
                and {{ indicator_exact_sum('numerator') }} < {{ indicator_exact_sum('denominator') }}
                then 1.0
            else 0.0
        end as numerator,
        case when {{ indicator_exact_sum('denominator') }} > 0 then 1.0 else 0.0 end as denominator,
        cast(null as double) as target_amount,
        max(last_current_date) as last_current_date,
        coalesce(bool_or(is_restated), false) as is_restated

    from {{ cte }}__kept
    group by period_type, period_start, province_code, district_code, breakdown, entity_id

),
{%- set staged = cte ~ '__per_entity' %}
{%- else %}
{%- set staged = cte ~ '__kept' %}
{%- endif %}

{{ cte }} as (
    {%- if is_precomputed %}

    select
        '{{ ind.id }}' as indicator_id,
        period_type,
        period_start,
        region_level,
        region_id,
        cast(null as string) as enterprise_id,
        breakdown,
        numerator,
        denominator,
        {%- if ind.get('value') %}
        {{ ind.factor }} * source_value as value,
        {%- else %}
        {{ ind.factor }} * numerator / nullif(denominator, 0) as value,
        {%- endif %}
        cast(null as double) as target_amount,
        last_current_date as period_last_data_date,
        is_restated

    from {{ staged }}
    {%- else %}
    {%- set levels = ['country', 'province', 'district'] %}
    {%- if ind.get('enterprise') and ind.aggregation in ('ratio', 'sum', 'yoy_growth', 'percentile') %}
    {%- set levels = levels + ['enterprise'] %}
    {%- endif %}
    {%- set levels = levels | select('in', var('indicator_levels', none) or levels) | list %}
    {%- for level in levels %}

    select
        '{{ ind.id }}' as indicator_id,
        period_type,
        period_start,
        {%- if level == 'country' %}
        'country' as region_level,
        'TM' as region_id,
        cast(null as string) as enterprise_id,
        {%- elif level == 'province' %}
        'province' as region_level,
        province_code as region_id,
        cast(null as string) as enterprise_id,
        {%- elif level == 'district' %}
        'district' as region_level,
        district_code as region_id,
        cast(null as string) as enterprise_id,
        {%- else %}
        {#- An enterprise is placed in its district where known, else its province. #}
        case
            when district_code is not null then 'district'
            when province_code is not null then 'province'
            else 'country'
        end as region_level,
        coalesce(district_code, province_code, 'TM') as region_id,
        enterprise_id,
        {%- endif %}
        breakdown,
        {{ indicator_aggregates(ind) }}

    from {{ staged }}
    {%- if level == 'province' %}
    where province_code is not null
    group by period_type, period_start, province_code, breakdown
    {%- elif level == 'district' %}
    where district_code is not null
    group by period_type, period_start, district_code, breakdown
    {%- elif level == 'enterprise' %}
    where enterprise_id is not null
    group by period_type, period_start, province_code, district_code, enterprise_id, breakdown
    {%- else %}
    group by period_type, period_start, breakdown
    {%- endif %}
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}
    {%- endif %}

)
{%- endmacro %}

{#- All indicators of one sector, unioned into the long shape. -#}
{#-
    Vars (all optional, for a partial build or a unit test of one formula):
    indicator_ids (only these indicators), indicator_period_types and indicator_levels.
-#}
{#- On DuckDB the model is incremental: it makes only the periods whose days changed
    (indicator_refresh.sql). -#}
{% macro indicator_values_for_sector(sector) -%}
    {%- set indicators = indicators_of_sector(sector) -%}
    {%- set refreshing = target.type == 'duckdb' and is_incremental() -%}
with
{%- if refreshing %}

{{ indicator_refresh_ctes(sector) }},
{%- endif %}
{% for ind in indicators %}
{{ indicator_values(ind, refreshing) }},
{% endfor %}
final as (
    {%- for ind in indicators %}

    select
        indicator_id,
        period_type,
        period_start,
        region_level,
        region_id,
        enterprise_id,
        breakdown,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator,
        -- Six decimals: enough for any unit here; exact sums make them the same on every engine.
        {{ indicator_rounded('value') }} as value,
        cast(target_amount as double) as target_amount,
        period_last_data_date,
        is_restated
    from ind_{{ ind.id }}
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

)

select * from final
{%- endmacro %}
