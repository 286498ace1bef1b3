-- Every indicator with an enterprise level, by period and enterprise (placed in its district,
-- else its province), judged like fct_indicator_values. A view over the sector models, which a
-- daily build updates by period: the enterprise level (most of the rows) is not copied again.
{{ config(materialized='view') }}

with

judged as (

    select * from {{ ref('int_indicator_values_judged') }}

),

final as (

    select * from judged
    where judged.enterprise_id is not null

)

select * from final
