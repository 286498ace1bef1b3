with

source as (

    select * from {{ source('fuel_energy_production', 'monthly_plans') }}

),

renamed as (

    select
        _batch_id || ':' || cast(_row_number as string) as monthly_plan_id,
        make_date(plan_year, plan_month, 1) as plan_month,
        'fuel_energy_production:' || enterprise_code as enterprise_id,
        enterprise_code,
        product_code,
        cast(planned_quantity as decimal(18, 3)) as planned_quantity,
        version as plan_version,
        approved_on as approved_date,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
