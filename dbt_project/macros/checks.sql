{#- post-hook of fct_indicator_values: 'all' deduplicates households across platforms, so for a stock
    or a flow it may be less than postmart + voso (flows: equal to it) but never less than either
    platform alone, the bound checked here. Checked in the model's transaction on the rows this build wrote (`xmin` is
    the transaction that inserted a row; a full build writes every row), each against the stored rows
    of its period, scope, map version and indicator: a violation fails the model and rolls back its
    rows and its build watermark, so a rerun computes and checks them again. As a data test it read
    every period of history after every build (9 s with 26 national weeks), and a test bounded to the
    build's window would pass on a rerun that changed nothing. -#}
{% macro assert_all_platforms_not_below_each_platform() -%}
{%- set written = this.identifier ~ '__written_keys' -%}
do $check$
declare
    broken record;
begin
    -- the keys this transaction wrote, analysed: the planner then reads only their periods' rows (by
    -- the period index) and hashes them; sorts of these text keys took seconds
    create temp table {{ written }} on commit drop as
    select distinct period_type, period_key, scope_level, scope_code, map_version, indicator_code
    from {{ this }}
    where xmin = pg_current_xact_id()::xid and indicator_kind in ('stock', 'flow');
    analyze {{ written }};
    set local enable_sort = off;
    set local enable_nestloop = off;
    with compared as (
        select t.period_type, t.period_key, t.scope_level, t.scope_code, t.map_version, t.indicator_code,
               max(t.cumulative_value) filter (where t.platform = 'all') as all_value,
               max(t.cumulative_value) filter (where t.platform <> 'all') as platform_value
        from {{ this }} as t
        join {{ written }} using (period_type, period_key, scope_level, scope_code, map_version, indicator_code)
        where t.period_key = any(array(select distinct period_key from {{ written }}))
        group by t.period_type, t.period_key, t.scope_level, t.scope_code, t.map_version, t.indicator_code
    ),
    below as (select * from compared where platform_value > all_value + 1e-9)
    select (select count(*) from below) as n, b.* into broken
    from below as b
    order by b.period_key, b.scope_level, b.scope_code, b.indicator_code
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
