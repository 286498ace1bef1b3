-- Output of each plant and product by month, plan against actual, with sales at home and
-- exports. The latest compiled version of a month's form wins (a form sent again corrected
-- replaces the first); every version stays in staging.
with

lines as (

    select * from {{ ref('stg_chemical__output_lines') }}

),

latest as (

    select
        lines.*,
        count(*) over (
            partition by lines.report_month, lines.enterprise_code, lines.product_code
        ) - 1 as correction_count

    from lines
    qualify
        row_number() over (
            partition by lines.report_month, lines.enterprise_code, lines.product_code
            order by lines.compiled_date desc, lines.batch_id desc, lines.batch_row_number desc
        ) = 1

),

final as (

    select
        latest.enterprise_id
        || '|' || latest.product_id
        || '|' || cast(latest.report_month as string) as monthly_output_id,
        latest.report_month,
        latest.enterprise_id,
        latest.product_id,
        latest.plan_tonnes,
        latest.actual_tonnes,
        latest.sold_domestic_tonnes,
        latest.exported_tonnes,
        latest.compiled_date,
        cast(latest.correction_count as integer) as correction_count

    from latest

)

select * from final
