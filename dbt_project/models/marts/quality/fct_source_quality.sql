-- Per sector system and table: what was delivered, loaded, quarantined and held, whether the
-- counts reconcile, and the most frequent reason rows were quarantined.
with

batches as (

    select * from {{ ref('stg_audit__batches') }}

),

quarantine as (

    select * from {{ ref('stg_audit__quarantine') }}

),

reasons as (

    select
        quarantine.system_name,
        quarantine.table_name,
        quarantine.failed_rule || ' on ' || quarantine.failed_field as reason,
        cast(count(*) as bigint) as failures

    from quarantine
    group by quarantine.system_name, quarantine.table_name, reason

),

top_reasons as (

    select
        reasons.system_name,
        reasons.table_name,
        max_by(reasons.reason, reasons.failures) as top_quarantine_reason

    from reasons
    group by reasons.system_name, reasons.table_name

),

totals as (

    select
        batches.system_name,
        batches.table_name,
        count(*) as batch_count,
        cast(sum(batches.extracted_rows) as bigint) as extracted_rows,
        cast(sum(batches.loaded_rows) as bigint) as loaded_rows,
        cast(sum(batches.quarantined_rows) as bigint) as quarantined_rows,
        cast(sum(batches.held_rows) as bigint) as held_rows,
        count(*) filter (where batches.batch_status = 'held') as held_batch_count,
        count(*) filter (where batches.batch_status = 'rejected') as rejected_batch_count,
        max(batches.extracted_at) as last_extracted_at

    from batches
    group by batches.system_name, batches.table_name

),

final as (

    select
        totals.system_name || '.' || totals.table_name as source_table_id,
        totals.system_name,
        totals.table_name,
        totals.batch_count,
        totals.extracted_rows,
        totals.loaded_rows,
        totals.quarantined_rows,
        totals.held_rows,
        totals.held_batch_count,
        totals.rejected_batch_count,
        totals.extracted_rows
        = totals.loaded_rows + totals.quarantined_rows + totals.held_rows as is_reconciled,
        round(100.0 * totals.quarantined_rows / nullif(totals.extracted_rows, 0), 3)
            as quarantined_pct,
        top_reasons.top_quarantine_reason,
        totals.last_extracted_at

    from totals
    left join top_reasons
        on
            totals.system_name = top_reasons.system_name
            and totals.table_name = top_reasons.table_name

)

select * from final
