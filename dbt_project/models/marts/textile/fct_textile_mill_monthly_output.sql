-- Output of each mill and product by month: plan, produced and exported in the product's unit,
-- and export value in thousand manats. The latest submission of each figure wins (a
-- correction replaces what was first sent); every submission stays in staging.
with

reports as (

    select * from {{ ref('stg_textile__output_reports') }}

),

products as (

    select * from {{ ref('stg_textile__products') }}

),

latest as (

    select
        reports.*,
        count(*) over (
            partition by reports.report_month, reports.mill_code, reports.product_code
        ) - 1 as correction_count

    from reports
    qualify
        row_number() over (
            partition by reports.report_month, reports.mill_code, reports.product_code
            order by reports.submitted_at desc, reports.batch_id desc, reports.batch_row_number desc
        ) = 1

),

final as (

    select
        latest.enterprise_id
        || '|' || latest.product_id
        || '|' || cast(latest.report_month as string) as mill_output_id,
        latest.report_month,
        latest.enterprise_id,
        latest.product_id,
        products.unit,
        latest.planned_quantity,
        latest.produced_quantity,
        latest.exported_quantity,
        latest.export_value_tmt,
        latest.submitted_at,
        cast(latest.correction_count as integer) as correction_count

    from latest
    left join products
        on latest.product_id = products.product_id

)

select * from final
