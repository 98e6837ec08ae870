{#- post-hook of fct_indicator_values, on the rows this build wrote (`xmin` is the transaction that
    inserted a row; a full build writes every row), each compared with the stored rows of its period,
    scope, map version and indicator (its group):
    * one row per key (period, scope, map version, indicator, platform). A unique index checked that
      on insert, but each check visits the row the window delete removed, and those visits grew with
      history (the window's insert 13 s without it, 30 s with it, at 26 national weeks; 11 s either
      way at 1 week). A duplicate must involve a written row, and every row of its group is counted.
    * 'all' deduplicates households across platforms, so for a stock or a flow it may be less than
      postmart + voso (flows: equal to it) but never less than either platform alone.
    A violation fails the model and rolls back its rows and its build watermark, so a rerun computes
    and checks them again. As data tests these read every period of history after every build (9 s
    with 26 national weeks), and a test bounded to the build's window would pass on a rerun that
    changed nothing. -#}
{% macro assert_indicator_values_written() -%}
{%- set written = this.identifier ~ '__written_groups' -%}
{%- set compared = this.identifier ~ '__written_compared' -%}
{%- set group_key = 'period_type, period_key, scope_level, scope_code, map_version, indicator_code' -%}
do $check$
declare
    broken record;
begin
    -- the groups this transaction wrote, analysed: the planner then reads only their periods' rows (by
    -- the period index) and hashes them; sorts of these text keys took seconds
    create temp table {{ written }} on commit drop as
    select distinct {{ group_key }}
    from {{ this }}
    where xmin = pg_current_xact_id()::xid;
    analyze {{ written }};
    set local enable_sort = off;
    set local enable_nestloop = off;
    create temp table {{ compared }} on commit drop as
    select t.period_type, t.period_key, t.scope_level, t.scope_code, t.map_version, t.indicator_code,
           bool_or(t.indicator_kind in ('stock', 'flow')) as is_stock_or_flow,
           max(t.cumulative_value) filter (where t.platform = 'all') as all_value,
           max(t.cumulative_value) filter (where t.platform <> 'all') as platform_value,
           greatest(count(*) filter (where t.platform = 'all'), count(*) filter (where t.platform = 'postmart'),
                    count(*) filter (where t.platform = 'voso')) as rows_per_key
    from {{ this }} as t
    join {{ written }} using ({{ group_key }})
    where t.period_key = any(array(select distinct period_key from {{ written }}))
    group by t.period_type, t.period_key, t.scope_level, t.scope_code, t.map_version, t.indicator_code;

    select (select count(*) from {{ compared }} where rows_per_key > 1) as n, c.* into broken
    from {{ compared }} as c where c.rows_per_key > 1
    order by c.period_key, c.scope_level, c.scope_code, c.indicator_code
    limit 1;
    if found then
        raise exception using
            message = format('fct_indicator_values_one_row_per_key: %s khóa chỉ tiêu có hơn một dòng / %s indicator '
                             'keys have more than one row, e.g. %s %s, %s %s (%s), %s: %s rows on one platform',
                             broken.n, broken.n, broken.period_type, broken.period_key, broken.scope_level,
                             broken.scope_code, broken.map_version, broken.indicator_code, broken.rows_per_key),
            hint = 'The model''s rows and build watermark are rolled back; the next build recomputes them.';
    end if;

    select (select count(*) from {{ compared }} where is_stock_or_flow and platform_value > all_value + 1e-9) as n,
           c.* into broken
    from {{ compared }} as c where c.is_stock_or_flow and c.platform_value > c.all_value + 1e-9
    order by c.period_key, c.scope_level, c.scope_code, c.indicator_code
    limit 1;
    if found then
        raise exception using
            message = format('assert_all_platforms_not_below_each_platform: %s chỉ tiêu có giá trị "all" nhỏ hơn '
                             'giá trị của một sàn / %s indicator rows have ''all'' below one platform, '
                             'e.g. %s %s, %s %s (%s), %s: all = %s, platform = %s',
                             broken.n, broken.n, broken.period_type, broken.period_key, broken.scope_level,
                             broken.scope_code, broken.map_version, broken.indicator_code,
                             broken.all_value, broken.platform_value),
            hint = 'The model''s rows and build watermark are rolled back; the next build recomputes them.';
    end if;
end $check$
{%- endmacro %}
