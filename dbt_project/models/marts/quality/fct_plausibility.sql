{{ config(
    pre_hook=["set local enable_nestloop = off",
              "{{ delete_changed_weeks() }}"],
    post_hook=["{{ create_index('week_key, map_version, unit_code, indicator_code', 'key', unique=true) }}"]
) }}  {#- hash joins (enable_nestloop off): the CTEs below are estimated at 1 row, and nested loops over
       them cost units^2 x history weeks (196 s vs 0.35 s nationally, 1 changed week) -#}
{#- Plausibility of the weekly flows per reporting unit: volume_sold_t, orders, gmv_vnd of a week
    scored against the same unit's previous `plausibility_history_weeks` weeks (default 8) with a
    robust, median-based score (harvest seasons make plain z-scores misleading):

        score = (x - median) / (1.4826 * MAD)          MAD = median |x_i - median|

    Guard MAD = 0 (a flat history): the mean absolute deviation x 1.2533 stands in; if that is 0 too
    the score is NULL and the week is an outlier exactly when x differs from the constant history.
    Scored only with at least `plausibility_min_history` weeks of history (default 4).
    |score| > `plausibility_threshold` (default 3.5) -> is_outlier (severity warning).
    A week whose value and history are all 0 / NULL is not scored.
    Incremental: the weeks of changed_weeks() are scored again (a change also moves the scores of
    the weeks after it, which all end after the change), reading their history weeks. -#}
{%- set history = var('plausibility_history_weeks', 8) | int -%}
{%- set min_history = var('plausibility_min_history', 4) | int -%}
{%- set threshold = var('plausibility_threshold', 3.5) -%}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
-- depends_on: {{ ref('stg_weekly_forms__forms') }}  {# changed_weeks() reads the newly landed forms #}
with

scored_weeks as (
    select period_key as week_key, period_start as week_start
    from {{ ref('int_calendar__periods') }}
    where period_type = 'week'
    {% if is_incremental() %} and period_key = any({{ changed_weeks() }}) {% endif %}
),

flows as (

    select f.period_key as week_key, p.period_start as week_start, f.map_version, f.scope_code as unit_code,
           f.indicator_code, f.value_in_period as value
    from {{ ref('fct_indicator_values') }} as f
    join {{ ref('int_calendar__periods') }} as p on p.period_type = 'week' and p.period_key = f.period_key
    where f.period_type = 'week' and f.platform = 'all' and f.scope_level = 'unit'
      and f.indicator_code in ('volume_sold_t', 'orders', 'gmv_vnd')
      and p.period_start >= (select min(week_start) from scored_weeks) - {{ history * 7 }}

),

history as (

    select cur.week_key, cur.map_version, cur.unit_code, cur.indicator_code, h.value as h_value
    from flows as cur
    join scored_weeks as sw on sw.week_key = cur.week_key
    join flows as h
        on h.map_version = cur.map_version and h.unit_code = cur.unit_code and h.indicator_code = cur.indicator_code
       and h.week_start < cur.week_start and h.week_start >= cur.week_start - {{ history * 7 }}
    where h.value is not null

),

med as (

    select week_key, map_version, unit_code, indicator_code, count(*) as history_weeks,
           max(abs(h_value)) as max_abs_history,
           percentile_cont(0.5) within group (order by h_value) as median_value
    from history group by 1, 2, 3, 4

),

mad as (

    select h.week_key, h.map_version, h.unit_code, h.indicator_code,
           percentile_cont(0.5) within group (order by abs(h.h_value - m.median_value)) as mad_value,
           avg(abs(h.h_value - m.median_value)) as mean_abs_dev
    from history as h
    join med as m using (week_key, map_version, unit_code, indicator_code)
    group by 1, 2, 3, 4

),

scored as (

    select f.*, m.history_weeks, m.median_value, d.mad_value, d.mean_abs_dev,
           case when coalesce(m.history_weeks, 0) < {{ min_history }} or f.value is null then null
                when d.mad_value > 0 then (f.value - m.median_value) / (1.4826 * d.mad_value)
                when d.mean_abs_dev > 0 then (f.value - m.median_value) / (1.2533 * d.mean_abs_dev)
           end as score,
           case when coalesce(m.history_weeks, 0) < {{ min_history }} or f.value is null then 'insufficient_history'
                when d.mad_value > 0 then 'mad'
                when d.mean_abs_dev > 0 then 'mean_abs_dev'
                else 'constant_history' end as score_method
    from flows as f
    join scored_weeks as sw using (week_key, week_start)
    left join med as m using (week_key, map_version, unit_code, indicator_code)
    left join mad as d using (week_key, map_version, unit_code, indicator_code)
    -- nothing sold in the week nor in its history: nothing to score (the zero weeks of a series
    -- before it starts add no rows to weeks left unchanged)
    where coalesce(f.value, 0) <> 0 or coalesce(m.max_abs_history, 0) <> 0

)

select
    s.week_key::text                                    as week_key,
    s.map_version::text                                 as map_version,
    s.unit_code::text                                   as unit_code,
    u.unit_name::text                                   as unit_name,
    g.current_province_code::text                       as current_province_code,
    g.region_code::text                                 as region_code,
    ('province-' || g.current_province_code)::text      as scope_key,
    s.indicator_code::text                              as indicator_code,
    s.value::numeric                                    as value_in_week,
    coalesce(s.history_weeks, 0)::integer               as history_weeks,
    s.median_value::numeric                             as median_value,
    s.mad_value::numeric                                as mad_value,
    round(s.score::numeric, 2)::numeric                 as robust_score,
    s.score_method::text                                as score_method,
    (case when s.score_method = 'constant_history' then s.value <> s.median_value
          else coalesce(abs(s.score) > {{ threshold }}, false) end)::boolean as is_outlier,
    'warning'::text                                     as severity
from scored as s
left join {{ ref('int_geography__reporting_units') }} as g on g.map_version = s.map_version and g.unit_code = s.unit_code
left join {{ ref('ref_admin_units') }} as u
    on u.map_version = s.map_version and u.unit_code = s.unit_code and u.is_reporting_unit
-- one week's rows together on disk (why: fct_quality_checks)
order by week_key
