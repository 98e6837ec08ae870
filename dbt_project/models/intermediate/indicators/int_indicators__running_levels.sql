{{ config(
    pre_hook=["{{ running_levels_pre_hook() }}"],
    post_hook=["{{ create_index('as_of_date', 'day') }}",
               "{{ create_index('indicator_code, scope_level, scope_code, map_version, platform', 'series') }}"]
) }}
{#- Running totals of every series at every as-of date (period ends, the days before period starts,
    31 December of previous years): R(d) = sum of daily deltas up to and including d. Computed in
    one pass by merging as-of markers into the daily stream.
    Incremental: with D = the earliest changed date, the as-of dates on or after D are deleted and
    recomputed as R(D - 1) + the deltas from D on; a series new in the window also gets its zero
    levels at the as-of dates before D (a full build has them too); a series left without any delta
    is dropped (a full build does not have it). D is also the first as-of date after the last one stored when
    earlier (macros/incremental.sql levels_window(): a quiet week added to the calendar).
    R(D - 1) is the level stored at the last as-of date kept (A < D: every series has a level at
    every as-of date) plus the deltas after A and before D, and the series are those stored at A
    plus those with a delta after A: neither reads the deltas before A, so the work stays the same
    however long the history. -#}
{% set window = levels_window() if is_incremental() else none %}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
with

deltas as (select * from {{ ref('int_indicators__daily_deltas') }}),
dates as (select * from {{ ref('int_calendar__asof_dates') }}),

{% if window %}
-- the last as-of date kept by the pre-hook (NULL when nothing was kept)
kept as (select {{ last_level_before(window) }} as as_of_date),

kept_levels as (

    select indicator_code, scope_level, scope_code, map_version, platform, running_value
    from {{ this }}
    where as_of_date = (select as_of_date from kept)

),

recent_deltas as (

    select * from deltas
    where day > coalesce((select as_of_date from kept), '-infinity'::date)

),

series as (

    select indicator_code, scope_level, scope_code, map_version, platform from kept_levels
    union
    select indicator_code, scope_level, scope_code, map_version, platform from recent_deltas

),

base as (

    select indicator_code, scope_level, scope_code, map_version, platform, sum(value) as base_value
    from (
        select indicator_code, scope_level, scope_code, map_version, platform, running_value as value
        from kept_levels
        union all
        select indicator_code, scope_level, scope_code, map_version, platform, delta
        from recent_deltas
        where day < {{ window }}
    ) as before_window
    group by 1, 2, 3, 4, 5

),

-- a series first seen after A has no stored level at all
new_series as (

    select s.* from series as s
    where not exists (select 1 from kept_levels as t
                      where t.indicator_code = s.indicator_code and t.scope_level = s.scope_level
                        and t.scope_code = s.scope_code and t.map_version = s.map_version
                        and t.platform = s.platform)

),
{% else %}
series as (

    select distinct indicator_code, scope_level, scope_code, map_version, platform from deltas

),
{% endif %}

stream as (

    select indicator_code, scope_level, scope_code, map_version, platform, day, delta, 0 as is_marker
    {% if window %}
    from recent_deltas where day >= {{ window }}
    {% else %}
    from deltas
    {% endif %}
    union all
    select s.indicator_code, s.scope_level, s.scope_code, s.map_version, s.platform,
           d.as_of_date, 0::numeric, 1
    from series as s
    cross join dates as d
    {% if window %} where d.as_of_date >= {{ window }} {% endif %}

),

running as (

    select
        *,
        sum(delta) over (partition by indicator_code, scope_level, scope_code, map_version, platform
                         order by day, is_marker
                         rows between unbounded preceding and current row) as running_value
    from stream

)

{% if window %}
select r.indicator_code, r.scope_level, r.scope_code, r.map_version, r.platform,
       r.day as as_of_date, coalesce(b.base_value, 0) + r.running_value as running_value
from running as r
left join base as b using (indicator_code, scope_level, scope_code, map_version, platform)
where r.is_marker = 1
union all
-- a series that did not exist yet: level 0 at every as-of date before the window
select n.indicator_code, n.scope_level, n.scope_code, n.map_version, n.platform, d.as_of_date, 0::numeric
from new_series as n
cross join dates as d
where d.as_of_date < {{ window }}
{% else %}
select indicator_code, scope_level, scope_code, map_version, platform,
       day as as_of_date, running_value
from running
where is_marker = 1
{% endif %}
