with

source as (

    select * from {{ source('processing_output', 'monthly_plans') }}

),

renamed as (

    select
        plan_id,
        plan_year,
        plan_month,
        cast(make_date(plan_year, plan_month, 1) as date) as plan_month_date,
        plant_code,
        product_code,
        cast(plan_tonnes as decimal(18, 3)) as plan_tonnes,
        version as plan_version,
        approved_on as approved_date,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
