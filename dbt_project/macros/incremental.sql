{#- Incremental builds (issue #6): the models over orders and activity process only what changed
    since their last build.

    * ops.build_watermarks: per incremental model, the last landed file (file_id + sha256) it has
      processed; written by the model's post-hook `record_build_watermark()` in the same transaction
      as its rows. A watermark whose file is no longer in raw.landed_files (raw reset, a new
      warehouse) counts as 0: the model recomputes everything.
    * int_indicators__changes (table, rebuilt every run): one row per landed file after the oldest
      watermark, with the earliest local date its rows can change (order / activity / post date, a
      shop's or product's first-seen date, -infinity for a household register: it re-attributes
      households over all periods), plus the newest landed file.
    * `changed_from()`: the earliest changed date for THIS model (files after its own watermark);
      '-infinity' when it has no valid watermark; NULL when nothing changed. The window models
      delete their rows from that date (pre-hook `delete_changed_window(column)`) and insert them
      recomputed, so `dbt build` and `dbt build --full-refresh` give the same rows.
    Reference data (seeds) or model changes are not data changes: rebuild with --full-refresh. -#}

{% macro incremental_consumers() -%}
    {{ return(['int_platforms__orders', 'int_platforms__activities', 'int_indicators__active_account_periods',
               'int_indicators__active_accounts', 'int_indicators__members_per_unit', 'int_indicators__daily_deltas',
               'int_indicators__running_levels', 'int_households__running_levels', 'fct_indicator_values', 'fct_product_type_monthly',
               'fct_quality_checks', 'fct_plausibility', 'fct_reconciliation', 'rpt_reporting_completeness',
               'rpt_weekly_report', 'fct_reported_values']) }}
{%- endmacro %}

{#- SQL: the valid watermark of `model` (0 when none or when its file is gone from raw) -#}
{% macro build_watermark(model=none) -%}
    coalesce((select wm.upto_file_id from {{ source('ops', 'build_watermarks') }} as wm
              join {{ source('raw', 'landed_files') }} as wf on wf.file_id = wm.upto_file_id and wf.sha256 is not distinct from wm.upto_sha256
              where wm.model = '{{ model or this.identifier }}'), 0)
{%- endmacro %}

{#- SQL: the earliest local date changed since this model's last build (see the header) -#}
{% macro changed_from() -%}
    (case when {{ build_watermark() }} = 0 then '-infinity'::date
          else (select min(chg.changed_from) from {{ ref('int_indicators__changes') }} as chg
                where chg.file_id > {{ build_watermark() }}) end)
{%- endmacro %}

{#- pre-hook of a window model: drop the rows from the changed date on (incremental runs only) -#}
{% macro delete_changed_window(column) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ column }} >= {{ changed_from() }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- pre-hook statement: everything, when this model's changed date is '-infinity' (no valid watermark
    after a raw reset, or a household register landed: it re-attributes all periods). A statement
    of its own: the condition is then a one-time filter, checked once before any row is read. OR-ed
    with the window's condition, it made every row a candidate: each delete of a window scanned the
    whole table, which grows with history (fct_quality_checks 0.6 s with 1 national week, 2.5-3.3 s
    with 26, fct_indicator_values 1.3 s and 2.8-5.0 s). -#}
{% macro delete_all_after_reset() -%}
    delete from {{ this }} where {{ changed_from() }} = '-infinity'::date
{%- endmacro %}

{#- SQL: the weeks a week-keyed quality model recomputes: those ending on or after this model's
    earliest changed date, the weeks of the weekly forms landed since its last build, and the weeks
    after the last one it holds (a quiet week added to the calendar by extracts without events: no
    row changed, but the week is new; ISO week keys sort in time order). An array, compared with
    `week_key = any(...)`: the planner then reads those weeks by the week / period index, where
    `in (subquery)` was estimated at most weeks and scanned whole tables (fct_reconciliation 4.4 s ->
    0.9 s with 26 national weeks). -#}
{% macro changed_weeks() -%}
    array(select chw.period_key from {{ ref('int_calendar__periods') }} as chw
     where chw.period_type = 'week'
       and (chw.period_end >= {{ changed_from() }}
            or chw.period_key in (select frm.week_key from {{ ref('stg_weekly_forms__forms') }} as frm
                                  where frm.file_id > {{ build_watermark() }})
            or chw.period_key > (select max(chl.week_key) from {{ this }} as chl)))
{%- endmacro %}

{#- pre-hook of a week-keyed quality model: drop the weeks it recomputes (incremental runs only);
    everything after a raw reset, whose weeks may lie outside today's periods -#}
{% macro delete_changed_weeks() -%}
    {%- if is_incremental() -%}
    {{ delete_all_after_reset() }};
    delete from {{ this }} where week_key = any({{ changed_weeks() }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- SQL: the (map version, unit, week) keys of the weekly forms landed since this model's last build -#}
{% macro resent_unit_weeks() -%}
    (select map_version, unit_code, week_key from {{ ref('stg_weekly_forms__forms') }}
     where file_id > {{ build_watermark() }})
{%- endmacro %}

{#- pre-hook of fct_reported_values: drop the unit-weeks that forms landed for since its last build,
    everything without a valid watermark -#}
{% macro delete_resent_forms() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ build_watermark() }} = 0;
    delete from {{ this }} where (map_version, unit_code, week_key) in {{ resent_unit_weeks() }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- SQL condition: the fct_indicator_values rows rpt_weekly_report shows -#}
{% macro weekly_report_facts() -%}
    period_type = 'week' and platform in ('all', 'postmart', 'voso') and map_version = 'post2025'
    and scope_level in ('province', 'region', 'nation')
{%- endmacro %}

{#- pre-hook of rpt_weekly_report: drop the weeks it recomputes (delete_changed_weeks()), or every
    week when a scope with facts in those weeks is not in the report yet: every week has its rows -#}
{% macro delete_changed_report_weeks() -%}
    {%- if is_incremental() -%}
    {{ delete_all_after_reset() }};
    delete from {{ this }}
    where exists (select 1 from {{ ref('fct_indicator_values') }} as f
                  where {{ weekly_report_facts() }} and f.platform = 'all'
                    and f.period_key = any({{ changed_weeks() }})
                    and not exists (select 1 from {{ this }} as r
                                    where r.scope_level = f.scope_level and r.scope_code = f.scope_code));
    delete from {{ this }} where week_key = any({{ changed_weeks() }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- post-hook: this model has processed every file up to the newest landed one seen by the driver -#}
{% macro record_build_watermark() -%}
insert into {{ source('ops', 'build_watermarks') }} as w (model, upto_file_id, upto_sha256, built_at)
select '{{ this.identifier }}', coalesce(max(f.file_id), 0), max(f.sha256), now()
from {{ source('raw', 'landed_files') }} as f
where f.file_id = (select max(file_id) from {{ ref('int_indicators__changes') }})
on conflict (model) do update
    set upto_file_id = excluded.upto_file_id, upto_sha256 = excluded.upto_sha256, built_at = excluded.built_at
{%- endmacro %}

{#- post-hook: an index (named after the table) unless this table has it. unique=true on a natural key:
    PostgreSQL then checks every insert, which costs what is inserted, where a `unique` data test
    would scan all history on every build. A key part may be empty (a province-level post has no
    unit): two empty parts are the same key. A table model rebuilt is a new table: dbt has renamed
    the old one to a backup, which still holds the index's name until dbt drops it after the hooks,
    so that name is freed first (`create index if not exists` alone left the new table without). An
    index of that name that is not (or no longer should be) unique is made again. -#}
{% macro create_index(columns, suffix, unique=false, include=none) -%}
{%- set name = this.identifier ~ '__' ~ suffix -%}
do $idx$ begin
    if not exists (select 1 from pg_index as i join pg_class as c on c.oid = i.indexrelid
                   where c.relname = '{{ name }}' and i.indrelid = '{{ this }}'::regclass
                     and i.indisunique = {{ 'true' if unique else 'false' }}) then
        drop index if exists {{ this.schema }}.{{ name }};
        create {{ 'unique ' if unique }}index {{ name }} on {{ this }} ({{ columns }})
            {{- (' include (' ~ include ~ ')') if include }}{{ ' nulls not distinct' if unique }};
    end if;
end $idx$
{%- endmacro %}

{#- SQL: a `left join lateral` telling whether the row of alias `alias` is stored in this table
    already: the `columns` equal, the `nullable` (text) ones equal or both empty. `where
    <alias>_stored.found is null` keeps the new rows. Each row is probed through an index: an anti
    join left to the planner may hash the whole table instead, a cost that grows with every week of
    history. For the probe to use every column, index the nullable ones as probe_key() gives them,
    and include them plain (create_index's include): PostgreSQL reads an expression's column from the
    index only when the index holds the column itself, else it visits the table's row for each probe. -#}
{% macro stored_row_probe(alias, columns, nullable=[]) -%}
left join lateral (
    select 1 as found from {{ this }} as stored
    where {% for c in columns %}stored.{{ c }} = {{ alias }}.{{ c }}{{ ' and ' if not loop.last }}{% endfor %}
          {%- for c in nullable %} and coalesce(stored.{{ c }}, '') = coalesce({{ alias }}.{{ c }}, ''){% endfor %}
    limit 1
) as {{ alias }}_stored on true
{%- endmacro %}

{#- the index columns of a stored_row_probe() key: the nullable ones as the probe compares them -#}
{% macro probe_key(columns, nullable=[]) -%}
    {%- set parts = columns | list -%}
    {%- for c in nullable %}{% do parts.append("coalesce(" ~ c ~ ", '')") %}{% endfor -%}
    {{ parts | join(', ') }}
{%- endmacro %}

{#- pre-hook of every incremental model: two builds of it (the DAG's and one started by hand) take
    turns, the second waiting for the first to commit. Each then deletes its window from what the
    other committed: run side by side, both would delete the same old rows and insert their own, and
    no unique index stops the copies (fct_indicator_values checks its keys on the groups it writes,
    seeing only committed rows). Released at commit or rollback. -#}
{% macro lock_incremental_model() -%}
    select pg_advisory_xact_lock(hashtext('lensan.build:{{ this.schema }}.{{ this.identifier }}'))
{%- endmacro %}

{#- pre-hook of an incremental model keyed by source rows: no valid watermark (raw reset) -> start
    again from nothing, so rows of files no longer in raw do not linger -#}
{% macro reset_without_watermark() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ build_watermark() }} = 0
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- SQL: a series (indicator, scope, map version, platform) of alias `a` equals one of alias `b` -#}
{% macro same_series(a, b) -%}
    {{ a }}.indicator_code = {{ b }}.indicator_code and {{ a }}.scope_level = {{ b }}.scope_level
    and {{ a }}.scope_code = {{ b }}.scope_code and {{ a }}.map_version = {{ b }}.map_version
    and {{ a }}.platform = {{ b }}.platform
{%- endmacro %}

{#- SQL: the same scope (any indicator, any platform) -#}
{% macro same_scope(a, b) -%}
    {{ a }}.scope_level = {{ b }}.scope_level and {{ a }}.scope_code = {{ b }}.scope_code
    and {{ a }}.map_version = {{ b }}.map_version
{%- endmacro %}

{#- pre-hook of int_indicators__running_levels: the window, and the series that no longer have any
    delta (e.g. the only foreign market of a unit, whose order was returned). Such a series had all
    its deltas in the window, so its level before the window is 0: only those are checked. -#}
{#- SQL: the window of a levels model: the earliest changed date, or the first as-of date after the
    last one stored when earlier (a quiet week: extracts without events add a period to the calendar,
    so its end's level must be computed although no row changed); LEAST ignores NULL. Not "the first
    date without a row": the register levels have none where no register was in force yet, and every
    build would have started from there.
    The last one stored is looked for below the changed date only, where it is the same (or an
    earlier as-of date never computed, which a full build has): the pre-hook deletes the window in
    the model's transaction, and a max() over the whole table then walked back through every index
    entry deleted (960,870 with 26 national weeks) in each of the select's four reads of the window
    (the select 16.4-22.5 s before, 13.4-14.6 s after, three runs each). -#}
{% macro levels_window() -%}
    {%- set below = "coalesce(" ~ changed_from() ~ ", 'infinity'::date)" -%}
    least({{ changed_from() }},
          (select min(lvd.as_of_date) from {{ ref('int_calendar__asof_dates') }} as lvd
           where lvd.as_of_date > coalesce({{ last_level_before(below) }}, '-infinity'::date)))
{%- endmacro %}

{#- SQL: the last as-of date stored before `bound` (after the window's delete: the last one kept) -#}
{% macro last_level_before(bound) -%}
    (select max(lvt.as_of_date) from {{ this }} as lvt where lvt.as_of_date < {{ bound }})
{%- endmacro %}

{#- pre-hook of a levels model: drop the as-of dates of the window (incremental runs only) -#}
{% macro delete_levels_window() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where as_of_date >= {{ levels_window() }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{% macro running_levels_pre_hook() -%}
    {%- if is_incremental() -%}
    {{ delete_levels_window() }};
    delete from {{ this }} as t
    using (
        select z.indicator_code, z.scope_level, z.scope_code, z.map_version, z.platform
        from {{ this }} as z
        where z.as_of_date = {{ last_level_before(levels_window()) }} and z.running_value = 0
          and not exists (select 1 from {{ ref('int_indicators__daily_deltas') }} as d where {{ same_series('d', 'z') }})
    ) as gone
    where {{ same_series('t', 'gone') }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- pre-hook of fct_indicator_values: the periods of the window (everything after a raw reset), and
    the rows of scopes that no longer have any series (see running_levels_pre_hook: 0 at the last week
    kept); a zero series of a scope that still has data stays (every indicator of a scope with data
    has its rows, 0 where nothing happened). -#}
{% macro indicator_values_pre_hook() -%}
    {%- if is_incremental() -%}
    {{ delete_all_after_reset() }};
    delete from {{ this }}
    where (period_type, period_key) in (select period_type, period_key from {{ ref('int_calendar__periods') }}
                                        where period_end >= {{ changed_from() }});
    delete from {{ this }} as t
    using (
        select f.indicator_code, f.scope_level, f.scope_code, f.map_version, f.platform
        from {{ this }} as f
        where f.period_type = 'week'
          and f.period_key = (select max(period_key) from {{ this }} where period_type = 'week')
          and coalesce(f.cumulative_value, 0) = 0
          and f.indicator_kind in ('stock', 'flow', 'distinct_in_period')
          -- every series has a level at every as-of date: the last one tells which scopes still have data
          and not exists (select 1 from {{ ref('int_indicators__running_levels') }} as r
                          where r.as_of_date = (select max(rl.as_of_date) from {{ ref('int_indicators__running_levels') }} as rl)
                            and {{ same_scope('r', 'f') }})
          and not exists (select 1 from {{ ref('int_households__running_levels') }} as h where {{ same_scope('h', 'f') }})
    ) as gone
    where {{ same_series('t', 'gone') }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
