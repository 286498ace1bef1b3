{#-
    The batches of one source table that this build brings (new since the last successful
    build, from the batch ledger; pipelines/dbt_increments.py writes them before dbt starts),
    as a subquery of batch ids. An incremental model finds the periods they touch from its
    staging rows' batch_id and rebuilds those periods from every row it has for them.

    A build that cannot be told as an increment (the first, a changed project, a batch decided
    again) runs with --full-refresh, and is_incremental() is false.
-#}
{% macro increment_batch_ids(system, table_name) -%}
    select increments.batch_id
    from audit.dbt_build_increments as increments
    where
        increments.system = '{{ system }}'
        and increments.table_name = '{{ table_name }}'
{%- endmacro %}
