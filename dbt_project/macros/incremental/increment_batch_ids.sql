{#-
    The batches of one source table that this build brings (new since the last successful
    build, from the batch ledger; pipelines/dbt_increments.py writes them before dbt starts),
    as a subquery of batch ids. An incremental model finds the periods they touch from its
    staging rows' batch_id and rebuilds those periods from every row it has for them.

    A build that cannot be told as an increment (the first, a changed project, a batch decided
    again) runs with --full-refresh, and is_incremental() is false. A build by hand outside the
    pipeline has no increments of its own: it stops here rather than add the last pipeline
    build's batches again, or none.
-#}
{% macro increment_batch_ids(system, table_name) -%}
    {#- Compiling (docs generate, compile, a unit test) adds nothing: only a build checks. -#}
    {%- if execute and flags.WHICH in ('build', 'run') -%}
        {%- set found = run_query(
            "select count(*) from information_schema.tables"
            " where table_schema = 'audit' and table_name = 'dbt_build_increments'"
        ).columns[0].values()[0] -%}
        {%- set running = 0 -%}
        {%- if found -%}
            {%- set running = run_query(
                "select count(*) from audit.dbt_builds where status = 'running'"
                " and build_number = (select max(build_number) from audit.dbt_builds)"
            ).columns[0].values()[0] -%}
        {%- endif -%}
        {%- if not running -%}
            {{ exceptions.raise_compiler_error(
                this ~ " is incremental: the batches it adds come from a pipeline build"
                " (`maglumat run`); built by hand, give dbt --full-refresh") }}
        {%- endif -%}
    {%- endif %}
    select increments.batch_id
    from audit.dbt_build_increments as increments
    where
        increments.system = '{{ system }}'
        and increments.table_name = '{{ table_name }}'
{%- endmacro %}
