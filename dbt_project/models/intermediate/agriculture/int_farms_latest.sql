-- The farm register as in its latest full copy (each landing batch holds the whole register).
with

farms as (

    select * from {{ ref('stg_agriculture__farms') }}

),

latest_batch as (

    select max(farms.batch_id) as batch_id from farms

),

final as (

    select
        farms.farm_id,
        farms.district_code,
        farms.farm_name,
        farms.farm_type,
        farms.established_date

    from farms
    inner join latest_batch on farms.batch_id = latest_batch.batch_id

)

select * from final
