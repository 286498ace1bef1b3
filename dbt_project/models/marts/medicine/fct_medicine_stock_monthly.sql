-- Medicine stock of each facility by month: opening, received, consumed and closing, in the
-- medicine's unit, from the latest version of the month's stock report. A month that ends with
-- nothing on hand is a stock-out.
with

stock as (

    select * from {{ ref('stg_medicine__stock_reports') }}

),

latest as (

    select
        stock.*,
        count(*) over (
            partition by stock.report_month, stock.facility_code, stock.medicine_code
        ) - 1 as correction_count

    from stock
    qualify
        row_number() over (
            partition by stock.report_month, stock.facility_code, stock.medicine_code
            order by stock.compiled_date desc, stock.batch_id desc, stock.batch_row_number desc
        ) = 1

),

final as (

    select
        latest.enterprise_id
        || '|' || latest.product_id
        || '|' || cast(latest.report_month as string) as stock_month_id,
        latest.report_month,
        latest.enterprise_id,
        latest.product_id,
        latest.opening_stock as opening_stock_units,
        latest.received as received_units,
        latest.consumed as consumed_units,
        latest.closing_stock as closing_stock_units,
        latest.closing_stock = 0 as is_stock_out,
        cast(latest.correction_count as integer) as correction_count

    from latest

)

select * from final
