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

{#- SQL: both platforms' order versions, of the files whose ids `files` (a relation or CTE with a
    file_id column) lists when given. Each platform's raw rows are bounded first by the smallest listed
    id that holds its orders (found by primary key): the staging view then parses only those files'
    rows, where the list alone would apply only after parsing every version of history. -#}
{% macro order_versions(files=none) -%}
{%- for platform in ['postmart', 'voso'] %}
    select platform, order_id, order_status, ordered_at, updated_at, extract_date, arrived_at, file_id, row_number
    from {{ ref('stg_' ~ platform ~ '__orders') }}
    {%- if files %}
    where file_id >= (select min(l.file_id) from {{ files }} as l
                      where exists (select 1 from {{ source(platform, platform ~ '_orders') }} as r where r.file_id = l.file_id))
      and file_id in (select file_id from {{ files }})
    {%- endif %}
    {{- '\n    union all' if not loop.last }}
{%- endfor %}
{%- endmacro %}
