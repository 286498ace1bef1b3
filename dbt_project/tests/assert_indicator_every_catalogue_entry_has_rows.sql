-- Fails with the indicators of the catalogue that produced no value at all: a catalogue entry
-- whose source, filter or formula yields nothing is broken even when its SQL compiles.
-- A warning in the pipeline, not an error: a sector system that has not delivered yet (a new
-- deployment, a system not yet connected) must not stop the other sectors from publishing.
-- tests/test_indicators.py holds it strict on a warehouse where every sector delivered.
-- In Dagster it is a check of fct_indicator_values, the table it reads the values from.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_indicator_values'}}}) }}
with

indicators as (

    select * from {{ ref('dim_indicators') }}

),

indicator_values as (

    select * from {{ ref('fct_indicator_values') }}

),

final as (

    select indicators.indicator_id
    from indicators
    left join indicator_values
        on
            indicators.indicator_id = indicator_values.indicator_id
            and indicator_values.value is not null
    group by indicators.indicator_id
    having count(indicator_values.indicator_id) = 0

)

select * from final
