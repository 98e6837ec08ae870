{#- Running totals of every series at every as-of date (period ends, the days before period starts,
    31 December of previous years): R(d) = sum of daily deltas up to and including d. Computed in
    one pass by merging as-of markers into the daily stream. -#}
with

deltas as (select * from {{ ref('int_indicators__daily_deltas') }}),
dates as (select * from {{ ref('int_asof_dates') }}),

series as (

    select distinct indicator_code, scope_level, scope_code, map_version, platform from deltas

),

stream as (

    select indicator_code, scope_level, scope_code, map_version, platform, day, delta, 0 as is_marker
    from deltas
    union all
    select s.indicator_code, s.scope_level, s.scope_code, s.map_version, s.platform,
           d.as_of_date, 0::numeric, 1
    from series as s
    cross join dates as d

),

running as (

    select
        *,
        sum(delta) over (partition by indicator_code, scope_level, scope_code, map_version, platform
                         order by day, is_marker
                         rows between unbounded preceding and current row) as running_value
    from stream

)

select indicator_code, scope_level, scope_code, map_version, platform,
       day as as_of_date, running_value
from running
where is_marker = 1
