with

source as (

    select * from {{ source('construction_projects', 'milestones') }}

),

renamed as (

    select
        milestone_id,
        project_id,
        sequence_no as milestone_sequence,
        milestone_code,
        planned_date,
        actual_date,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at

    from source

)

select * from renamed
