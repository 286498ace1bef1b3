-- Every indicator of the catalogue by period and region (country, province, district), with its
-- target, variance, green/amber/red status and whether its period is partial
-- (int_indicator_values_judged). The enterprise rows are fct_enterprise_indicator_values'.
with

judged as (

    select * from {{ ref('int_indicator_values_judged') }}

),

final as (

    select * from judged
    where judged.enterprise_id is null

)

select * from final
