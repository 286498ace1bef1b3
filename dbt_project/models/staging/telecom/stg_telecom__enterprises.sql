-- The operators in the shape every sector gives dim_enterprises: the latest entry of each
-- operator in any landed copy of the list, so that an operator later dropped still names its
-- old reports.
with

operators as (

    select * from {{ ref('stg_telecom__operators') }}

),

ranked as (

    select
        operators.*,
        row_number() over (
            partition by operators.operator_code
            order by operators.extracted_at desc, operators.updated_at desc
        ) as entry_rank

    from operators

),

final as (

    select
        cast('telecom_statistics_api:' || operator_code as string) as enterprise_id,
        cast(operator_name_tk as string) as enterprise_name,
        cast('telecom' as string) as sector,
        cast('Agency of Transport and Communications' as string) as ministry,
        cast(province_code as string) as province_code,
        cast(null as string) as district_code

    from ranked
    where entry_rank = 1

)

select * from final
