-- Fails where a ratio indicator's province value is not the sum of its districts' numerators
-- over the sum of their denominators (times the factor): a roll-up that averaged percentages or
-- lost rows. Checked for the sectors whose facts place every row in a district.
-- In Dagster it is a check of fct_indicator_values, whose values it compares.
{{ config(meta={'dagster': {'ref': {'name': 'fct_indicator_values'}}}) }}
with

indicators as (

    select * from {{ ref('dim_indicators') }}

),

indicator_values as (

    select * from {{ ref('fct_indicator_values') }}

),

regions as (

    select * from {{ ref('dim_regions') }}

),

ratio_indicators as (

    select
        indicators.indicator_id,
        indicators.factor
    from indicators
    where
        indicators.aggregation = 'ratio'
        and indicators.sector in ('agriculture', 'processing', 'construction')

),

districts as (

    select
        indicator_values.indicator_id,
        indicator_values.period_type,
        indicator_values.period_start,
        coalesce(indicator_values.breakdown, '-') as breakdown,
        regions.parent_region_id as province_code,
        sum(indicator_values.numerator) as numerator,
        sum(indicator_values.denominator) as denominator

    from indicator_values
    inner join regions
        on indicator_values.region_id = regions.region_id
    where
        indicator_values.region_level = 'district'
        and indicator_values.enterprise_id is null
    group by
        indicator_values.indicator_id,
        indicator_values.period_type,
        indicator_values.period_start,
        coalesce(indicator_values.breakdown, '-'),
        regions.parent_region_id

),

provinces as (

    select * from indicator_values
    where
        indicator_values.region_level = 'province'
        and indicator_values.enterprise_id is null

),

final as (

    select
        provinces.indicator_value_id,
        provinces.value as province_value,
        ratio_indicators.factor * districts.numerator / nullif(districts.denominator, 0)
            as value_from_districts

    from provinces
    inner join ratio_indicators
        on provinces.indicator_id = ratio_indicators.indicator_id
    left join districts
        on
            provinces.indicator_id = districts.indicator_id
            and provinces.period_type = districts.period_type
            and provinces.period_start = districts.period_start
            and coalesce(provinces.breakdown, '-') = districts.breakdown
            and provinces.region_id = districts.province_code
    where
        districts.indicator_id is null
        or abs(
            coalesce(provinces.value, 0)
            - coalesce(
                ratio_indicators.factor * districts.numerator / nullif(districts.denominator, 0),
                0
            )
        ) > 0.0001

)

select * from final
