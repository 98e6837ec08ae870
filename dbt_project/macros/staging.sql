{#- What staging reads of raw (issue #18).

    `delivered(relation)`: the rows of a raw table (or raw view) whose file has not been withdrawn
    (`lensan withdraw` sets raw.landed_files.withdrawn_at; the file keeps its archive copy and raw rows
    as history), with the file's `arrived_at`. Every staging model reads raw through it. A left join:
    rows under an id landed_files does not hold (a register re-delivered under a new snapshot date,
    raw.household_register_snapshots, which leaves withdrawn files out itself) are kept.

    `latest_delivery_first()`: the order in which deliveries supersede each other, newest first, so that
    for each key the latest delivery wins, deterministically: arrival time, then file, then row (a
    corrected re-delivery of an entity-day, landed later, wins over the first delivery; every delivery's
    rows stay in raw and staging as history). Models pick the latest version with `distinct on` /
    row_number() over this order, after their own business order (an order's updated_at, the extract
    date). -#}

{% macro delivered(relation) -%}
    select src.*, delivery.arrived_at
    from {{ relation }} as src
    left join {{ source('raw', 'landed_files') }} as delivery on delivery.file_id = src.file_id
    where delivery.withdrawn_at is null
{%- endmacro %}

{% macro latest_delivery_first(alias=none, arrived_at=none, direction='desc') -%}
    {%- set p = (alias ~ '.') if alias else '' -%}
    {{ arrived_at or (p ~ 'arrived_at') }} {{ direction }}{{ ' nulls last' if direction == 'desc' else ' nulls first' }}, {{ p }}file_id {{ direction }}, {{ p }}row_number {{ direction }}
{%- endmacro %}

{#- on-run-start: fresh statistics for the raw tables that took many rows since they were last
    analysed (what autovacuum would do a minute later). The build right after a landing otherwise plans
    against an empty table's estimates: fct_reported_values nested-looped over every form row of the
    week for each form (44 s instead of 1 s for a national week of forms). -#}
{% macro analyze_landed_raw() -%}
do $analyze$
declare t record;
begin
    for t in select relid::regclass as rel from pg_stat_user_tables
             where schemaname = 'raw' and n_mod_since_analyze > greatest(1000, n_live_tup / 10)
    loop
        execute format('analyze %s', t.rel);
    end loop;
end $analyze$
{%- endmacro %}
