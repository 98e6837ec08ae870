{{ config(
    pre_hook=["set local enable_mergejoin = off",
              "{{ indicator_values_pre_hook() }}"],
    post_hook=["{{ create_index('period_type, period_key', 'period') }}",
               "{{ create_index('period_key', 'period_key') }}",
               "drop index if exists {{ this.schema }}.{{ this.identifier }}__key",
               "{{ create_index('scope_level, scope_code, indicator_code, period_key', 'scope_period') }}",
               "{{ assert_indicator_values_written() }}"]
) }}  {#- hash joins (enable_mergejoin off): the merge-join plans of these wide composite keys rescan millions of rows;
       no unique index: the last post-hook checks one row per key, and 'all' against the platforms, on
       the rows written (macros/checks.sql). A row is found by the scope_period index (its platforms and
       map versions share an entry, deduplicated). It replaces the 7-column key index of earlier builds,
       dropped: 520 MB with 26 national weeks, where every recomputed row went to a random place of it
       (inserting a week's window of 1.1M rows: 23-38 s with it, 10.7 s with this one, 201 MB). #}
{#- Every indicator for every period x scope x map version x platform.
    stock: cumulative_value = level at the period end, value_in_period = level(end) - level(end of
           the previous period); never a sum over weeks.
    flow: value_in_period = amount in the period, cumulative_value = amount since 1 January of the
          period end's year.
    distinct_in_period (active accounts): value_in_period = distinct accounts active in the period,
          cumulative_value = distinct accounts active since 1 January.
    gauge (info_update_days): longest stretch in days without a post in the period, the open one at
           its end included (int_indicators__info_update_gaps), so never blank.
    ratio: numerator / denominator of the same scope, platform and period, in value_in_period.
    Per-platform rows of distinct counts may sum to more than 'all' (platforms_additive = false).
    Zero, not blank: every scope with any data (a unit, province, region or the nation some value is
    attributed to) has every computed indicator on every platform it has (platform data: postmart,
    voso, all; the register: all) in every period, 0 where nothing happened; a blank (NULL) is left
    only where a value is undefined (a ratio over 0).
    Validity: a scope has rows only in the periods overlapping the days it existed
    (int_geography__scopes: a district abolished on 1 July 2025 has none after June 2025, a commune
    created that day none before July 2025).
    attainment_flag: 'above_target' (attainment > 100 %) or 'implausibly_low' (< var
    attainment_low_pct in a period ending on or after the first day of month var
    attainment_low_from_month of the target year, i.e. after the first quarter), else NULL.
    Incremental (macros/incremental.sql): the periods ending on or after the earliest changed date are
    deleted (pre-hook) and recomputed, and so are periods without any row yet (a quiet week: new
    extracts without events add the week to the calendar); a series new in this build gets its rows
    for every period; growth uses the stored value of the period before the window. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
with

periods as (select * from {{ ref('int_calendar__periods') }}),
-- the periods recomputed: all of them in a full build, else those ending on or after the change
window_periods as (
    select period_type, period_key from periods
    {% if is_incremental() %}
    where period_end >= {{ changed_from() }}
       or not exists (select 1 from {{ this }} as t
                      where t.period_type = periods.period_type and t.period_key = periods.period_key)
    {% endif %}
),
indicators as (select * from {{ ref('ref_indicators') }}),
targets as (select * from {{ ref('int_targets__resolved') }}),
same_scope_targets as (select * from {{ ref('int_targets__same_scope') }}),
scopes as (select * from {{ ref('int_geography__scopes') }}),

platform_levels as not materialized (select * from {{ ref('int_indicators__running_levels') }}),
register_levels as not materialized (select * from {{ ref('int_households__running_levels') }}),

-- every platform series has a level at every as-of date (int_indicators__running_levels): the last
-- date has them all. Distinct per table, not over a CTE or a union, so that the planner estimates
-- the scopes and indicators from the tables' statistics: over a CTE it took every level for a
-- distinct scope and indicator, and hashed the levels in millions of batches (687 s with 26 weeks
-- of history).
last_platform_levels as not materialized (
    select * from platform_levels where as_of_date = (select max(as_of_date) from platform_levels)
),

level_scopes as (

    select distinct scope_level, scope_code, map_version from last_platform_levels
    union
    select distinct scope_level, scope_code, map_version from register_levels

),

-- every computed indicator on each platform it has (platform data: postmart, voso, all; the register:
-- all), plus the helper series (_products_listed, _hh_orders, ...) as they occur
indicator_platforms as (

    select i.indicator_code, p.platform
    from indicators as i
    cross join (values ('postmart'::text), ('voso'), ('all')) as p (platform)
    where i.kind in ('stock', 'flow', 'distinct_in_period')
      and (i.primary_source = 'platforms' or p.platform = 'all')
    union
    select distinct indicator_code, platform from last_platform_levels
    union
    select distinct indicator_code, platform from register_levels

),

-- zero, not blank: every scope with any data gets every indicator x platform, with its validity
series as (

    select ip.indicator_code, d.scope_level, d.scope_code, d.map_version, ip.platform,
           coalesce(sc.valid_from, '-infinity'::date) as valid_from,
           coalesce(sc.valid_to, 'infinity'::date)    as valid_to
    from level_scopes as d
    cross join indicator_platforms as ip
    left join scopes as sc using (scope_level, scope_code, map_version)
    -- information posts are province-level: IV.1 has no unit series
    where not (d.scope_level = 'unit' and ip.indicator_code = 'info_items')

),

-- scopes with a series without any row yet (a new unit, platform or indicator): every period
new_scopes as (

    {% if is_incremental() %}
    select distinct s.scope_level, s.scope_code, s.map_version, s.platform
    from series as s
    {{ stored_row_probe('s', ['scope_level', 'scope_code', 'indicator_code', 'platform', 'map_version']) }}
    where s.indicator_code not like '\_%' and s_stored.found is null
    {% else %}
    select scope_level, scope_code, map_version, platform from series where false
    {% endif %}

),

-- the three as-of dates each period needs: its end, the day before its start, 31 Dec of last year
period_dates as (

    select p.period_type, p.period_key, d.role, d.as_of_date
    from periods as p
    cross join lateral (values
        ('end', p.period_end),
        ('before', p.period_start - 1),
        ('prev_year_end', make_date(p.year - 1, 12, 31))
    ) as d (role, as_of_date)

),

window_dates as (
    select distinct pd.as_of_date from period_dates as pd join window_periods using (period_type, period_key)
),

-- the levels the rows computed need: all of them in a full build, else those at the as-of dates of
-- the recomputed periods (by the as-of date index) and every level of a new scope (by series)
levels as (

    {% if is_incremental() %}
    select indicator_code, scope_level, scope_code, map_version, platform, as_of_date, running_value
    from platform_levels
    where as_of_date in (select as_of_date from window_dates)
    union all   -- a level twice changes no max() below
    select l.indicator_code, l.scope_level, l.scope_code, l.map_version, l.platform, l.as_of_date, l.running_value
    from series as s
    join new_scopes as n using (scope_level, scope_code, map_version, platform)
    cross join lateral (
        select * from platform_levels as r
        where r.indicator_code = s.indicator_code and r.scope_level = s.scope_level
          and r.scope_code = s.scope_code and r.map_version = s.map_version and r.platform = s.platform
        offset 0
    ) as l
    union all
    select indicator_code, scope_level, scope_code, map_version, platform, as_of_date, running_value
    from register_levels
    where as_of_date in (select as_of_date from window_dates)
       or (scope_level, scope_code, map_version, platform)
          in (select scope_level, scope_code, map_version, platform from new_scopes)
    {% else %}
    select indicator_code, scope_level, scope_code, map_version, platform, as_of_date, running_value
    from platform_levels
    union all
    select indicator_code, scope_level, scope_code, map_version, platform, as_of_date, running_value
    from register_levels
    {% endif %}

),

period_levels as (

    select
        l.indicator_code, l.scope_level, l.scope_code, l.map_version, l.platform,
        pd.period_type, pd.period_key,
        max(l.running_value) filter (where pd.role = 'end')           as level_end,
        max(l.running_value) filter (where pd.role = 'before')        as level_before,
        max(l.running_value) filter (where pd.role = 'prev_year_end') as level_prev_year_end
    from levels as l
    join period_dates as pd on pd.as_of_date = l.as_of_date
    {% if is_incremental() %}
    -- only the levels the recomputed rows need
    where (pd.period_type, pd.period_key) in (select period_type, period_key from window_periods)
       or (l.scope_level, l.scope_code, l.map_version, l.platform)
          in (select scope_level, scope_code, map_version, platform from new_scopes)
    {% endif %}
    -- the most distinct column first: the sort this grouping takes compares fewer columns per pair
    -- (5.6M levels x dates, national week, 1 week of history: 8.5 s against 15 s sorted by indicator first)
    group by l.scope_code, l.indicator_code, l.platform, l.scope_level, l.map_version, pd.period_type, pd.period_key

),

{%- set grid_columns -%}
    s.indicator_code, s.scope_level, s.scope_code, s.map_version, s.platform,
    p.period_type, p.period_key, p.period_start, p.period_end, p.year, p.previous_period_key
{%- endset %}
-- a scope has rows only in the periods overlapping its days (units, provinces as reported)
grid as (

    select {{ grid_columns }}
    from series as s
    {% if is_incremental() %}
    cross join (select p.* from periods as p join window_periods using (period_type, period_key)) as p
    {% else %}
    cross join periods as p
    {% endif %}
    where p.period_end >= s.valid_from and p.period_start <= s.valid_to
    {% if is_incremental() %}
    union all
    -- a new scope: its periods before the window too
    select {{ grid_columns }}
    from series as s
    join new_scopes using (scope_level, scope_code, map_version, platform)
    cross join periods as p
    where p.period_end >= s.valid_from and p.period_start <= s.valid_to
      and (p.period_type, p.period_key) not in (select period_type, period_key from window_periods)
    {% endif %}

),

series_values as (

    select
        g.*,
        coalesce(pl.level_end, 0)            as level_end,
        coalesce(pl.level_before, 0)         as level_before,
        coalesce(pl.level_prev_year_end, 0)  as level_prev_year_end
    from grid as g
    left join period_levels as pl
        using (indicator_code, scope_level, scope_code, map_version, platform, period_type, period_key)

),

stocks_and_flows as (

    select
        v.period_type, v.period_key, v.year, v.previous_period_key,
        v.scope_level, v.scope_code, v.map_version, v.platform, v.indicator_code,
        v.level_end - v.level_before as value_in_period,
        case when i.kind = 'flow' then v.level_end - v.level_prev_year_end else v.level_end end as cumulative_value,
        null::numeric as detail_value
    from series_values as v
    join indicators as i using (indicator_code)
    where i.kind in ('stock', 'flow') and v.indicator_code <> 'products_promoted'

),

-- III.1 counts product TYPES; the number of products listed goes along as detail_value (a pivot of
-- the two series of the same scope, like the ratios: no join on the wide key)
products_promoted as (

    select
        period_type, period_key, year, previous_period_key, scope_level, scope_code, map_version, platform,
        'products_promoted'::text as indicator_code,
        max(level_end - level_before) filter (where indicator_code = 'products_promoted') as value_in_period,
        max(level_end) filter (where indicator_code = 'products_promoted')                as cumulative_value,
        max(level_end) filter (where indicator_code = '_products_listed')                 as detail_value
    from series_values
    where indicator_code in ('products_promoted', '_products_listed')
    group by 1, 2, 3, 4, 5, 6, 7, 8
    having bool_or(indicator_code = 'products_promoted')

),

active_accounts as (

    select
        v.period_type, v.period_key, v.year, v.previous_period_key,
        v.scope_level, v.scope_code, v.map_version, v.platform, v.indicator_code,
        coalesce(a.value_in_period, 0)               as value_in_period,
        v.level_end - v.level_prev_year_end          as cumulative_value,
        null::numeric                                as detail_value
    from series_values as v
    left join {{ ref('int_indicators__active_accounts') }} as a
        using (period_type, period_key, scope_level, scope_code, map_version, platform, indicator_code)
    where v.indicator_code = 'active_accounts'

),

info_gaps as (

    select
        g.period_type, g.period_key, p.year, p.previous_period_key,
        g.scope_level, g.scope_code, g.map_version, g.platform, g.indicator_code,
        g.value_in_period,
        null::numeric as cumulative_value,
        null::numeric as detail_value
    from {{ ref('int_indicators__info_update_gaps') }} as g
    join periods as p using (period_type, period_key)
    left join scopes as sc using (scope_level, scope_code, map_version)
    where p.period_end >= coalesce(sc.valid_from, '-infinity'::date)
      and p.period_start <= coalesce(sc.valid_to, 'infinity'::date)
      {% if is_incremental() %}
      and (g.period_type, g.period_key) in (select period_type, period_key from window_periods)
      {% endif %}

),

pivot as (

    select
        period_type, period_key, year, previous_period_key, scope_level, scope_code, map_version, platform,
        max(level_end) filter (where indicator_code = '_hh_converted')          as hh_converted,
        max(level_end) filter (where indicator_code = 'hh_digitized')           as hh_digitized,
        max(level_end) filter (where indicator_code = '_hh_trained_any')        as hh_trained_any,
        max(level_end) filter (where indicator_code = '_hh_trained_with_order') as hh_trained_with_order,
        max(level_end - level_before) filter (where indicator_code = '_hh_orders') as hh_orders,
        max(level_end) filter (where indicator_code = 'hh_with_shop')           as hh_with_shop
    from series_values
    where indicator_code in ('_hh_converted', 'hh_digitized', '_hh_trained_any', '_hh_trained_with_order',
                             '_hh_orders', 'hh_with_shop')
    group by 1, 2, 3, 4, 5, 6, 7, 8

),

ratios as (

    select period_type, period_key, year, previous_period_key, scope_level, scope_code, map_version, platform,
           'hh_conversion_rate'::text as indicator_code,
           round(100.0 * hh_converted / nullif(hh_digitized, 0), 4) as value_in_period,
           round(100.0 * hh_converted / nullif(hh_digitized, 0), 4) as cumulative_value,
           null::numeric as detail_value
    from pivot where platform = 'all' and hh_digitized is not null
    union all
    select period_type, period_key, year, previous_period_key, scope_level, scope_code, map_version, platform,
           'trained_to_order_rate',
           round(100.0 * hh_trained_with_order / nullif(hh_trained_any, 0), 4),
           round(100.0 * hh_trained_with_order / nullif(hh_trained_any, 0), 4),
           null::numeric
    from pivot where platform = 'all' and hh_trained_any is not null
    union all
    select period_type, period_key, year, previous_period_key, scope_level, scope_code, map_version, platform,
           'orders_per_hh_month',
           round(coalesce(hh_orders, 0) / nullif(hh_with_shop, 0)
                 / case period_type when 'month' then 1 when 'half_year' then 6 when 'year' then 12 end, 4),
           null::numeric,
           null::numeric
    from pivot where hh_with_shop is not null and period_type <> 'week'

),

all_values as (

    select * from stocks_and_flows where indicator_code not like '\_%'
    union all select * from products_promoted
    union all select * from active_accounts
    union all select * from info_gaps
    union all select * from ratios

),

-- incremental: the stored value of the period just before the window, for growth (never output)
valued as (

    select v.*, false as is_context from all_values as v
    {% if is_incremental() %}
    union all
    select t.period_type, t.period_key, null::integer, null::text, t.scope_level, t.scope_code, t.map_version,
           t.platform, t.indicator_code, t.value_in_period, null::numeric, null::numeric, true
    from {{ this }} as t
    where (t.period_type, t.period_key) in (
              select p.period_type, p.previous_period_key
              from periods as p join window_periods as w using (period_type, period_key))
      and (t.period_type, t.period_key) not in (select period_type, period_key from window_periods)
    {% endif %}

),

ordered as (

    select
        v.*,
        p.period_start,
        p.period_end,
        lag(v.value_in_period) over w as lag_value,
        lag(v.period_key) over w      as lag_period_key
    from valued as v
    join periods as p using (period_type, period_key)
    window w as (partition by v.period_type, v.scope_level, v.scope_code, v.map_version, v.platform,
                              v.indicator_code
                 order by p.period_start)

),

with_previous as (

    select
        *,
        case when lag_period_key = previous_period_key then lag_value end as previous_value
    from ordered as o
    where not is_context
    {% if is_incremental() %}
      -- rows of the window were deleted (pre-hook): only outside it, where just the rows of new
      -- series are missing, is the stored table looked up
      and ((o.period_type, o.period_key) in (select period_type, period_key from window_periods)
           or not exists (select 1 from {{ this }} as t
                          where t.period_type = o.period_type and t.period_key = o.period_key
                            and t.scope_level = o.scope_level and t.scope_code = o.scope_code
                            and t.indicator_code = o.indicator_code and t.platform = o.platform
                            and t.map_version = o.map_version))
    {% endif %}

)

select
    w.period_type::text                                   as period_type,
    w.period_key::text                                    as period_key,
    w.scope_level::text                                   as scope_level,
    w.scope_code::text                                    as scope_code,
    w.map_version::text                                   as map_version,
    w.platform::text                                      as platform,
    w.indicator_code::text                                as indicator_code,
    i.kind::text                                          as indicator_kind,
    w.value_in_period::numeric                            as value_in_period,
    w.cumulative_value::numeric                           as cumulative_value,
    w.previous_value::numeric                             as previous_value,
    case when w.previous_value is null or w.previous_value = 0 or w.value_in_period is null then null
         else round(100.0 * (w.value_in_period - w.previous_value) / abs(w.previous_value), 2)
    end::numeric                                          as growth_pct,
    w.year::integer                                       as target_year,
    trim_scale(round(coalesce(t.target_value, st.target_value), 4))::numeric as target_value,
    a.attainment_pct::numeric                             as target_attainment_pct,
    case when a.attainment_pct > 100 then 'above_target'
         when a.attainment_pct < {{ var('attainment_low_pct') }}
              and w.period_end >= make_date(w.year, {{ var('attainment_low_from_month') }}, 1)
         then 'implausibly_low'
    end::text                                             as attainment_flag,
    coalesce(t.is_sample_target, st.is_sample_target)::boolean as is_sample_target,
    i.primary_source::text                                as source,
    (i.kind = 'flow')::boolean                            as platforms_additive,
    w.detail_value::numeric                               as detail_value,
    case when w.indicator_code = 'products_promoted'
         then 'Số loại sản phẩm: ' || coalesce(trim_scale(w.cumulative_value)::text, '0')
              || '; số sản phẩm: ' || coalesce(trim_scale(w.detail_value)::text, '0') end::text as notes
from with_previous as w
join indicators as i using (indicator_code)
-- a row's targets are probed by index (lateral): a join left to the planner became a nested loop over
-- every target for each row whenever the rows were underestimated (262 s for a national full build,
-- 465 s for an incremental one); targets are set for both platforms together
left join lateral (
    select t.target_value, t.is_sample_target from targets as t
    where w.platform = 'all' and t.scope_level = w.scope_level and t.scope_code = w.scope_code
      and t.map_version = w.map_version and t.indicator_code = w.indicator_code and t.target_year = w.year
    offset 0   -- kept a subquery: pulled up into a plain join, the planner may loop over all targets again
) as t on true
left join lateral (
    select st.target_value, st.is_sample_target from same_scope_targets as st
    where w.platform = 'all' and st.period_type = w.period_type and st.period_key = w.period_key
      and st.scope_level = w.scope_level and st.scope_code = w.scope_code and st.map_version = w.map_version
      and st.indicator_code = w.indicator_code
    offset 0
) as st on true
cross join lateral (
    select case when coalesce(t.target_value, st.target_value) > 0 and i.kind in ('stock', 'flow', 'distinct_in_period')
                then round(100.0 * w.cumulative_value / coalesce(t.target_value, st.target_value), 2)
           end as attainment_pct
) as a
-- one period's rows together on disk (see fct_quality_checks): the gate and the publisher read one period
order by w.period_type, w.period_key
