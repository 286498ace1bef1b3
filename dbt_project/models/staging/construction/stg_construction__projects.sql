with

source as (

    select * from {{ source('construction_projects', 'projects') }}

),

renamed as (

    select
        project_id,
        project_code,
        project_name,
        project_type,
        customer as customer_name,
        district_code,
        contractor_id,
        cast(budget_tmt as decimal(18, 3)) as budget_tmt,
        planned_start_date,
        planned_completion_date,
        actual_start_date,
        actual_completion_date,
        status as project_status,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
