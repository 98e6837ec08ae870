{#- IV.2 gauge: the longest stretch in days without an information post that falls in the period, per
    scope and platform, on local dates: each gap closed by a post of the period (measured from the post
    before it, which may lie in an earlier period) and the gap still open at the period end (days since
    the last post on or before it). So a period without a post has the open gap, never a blank: days
    since the last earlier post, or the days of the period the scope existed when it never posted
    before (a scope's first post likewise closes the gap since the period start). Only the days the
    platform extracts cover count (a period is cut at the first and the last extract delivered: a
    month still running is measured to its last extract, days before the data began are no gap).
    Series: every scope x platform with a post at any time, over the periods it existed
    (int_geography__scopes); cheap at national scale: one window over posts and period ends, no
    scope x day grid. -#}
with

posts as (

    select *, null::text as unit_code
    from {{ ref('int_platforms__info_posts') }}
    where posted_date is not null

),

periods as (select * from {{ ref('int_calendar__periods') }}),
scopes as (select * from {{ ref('int_geography__scopes') }}),

-- the days the platform extracts cover: no gap is counted before the first or after the last one
extracts as (

    select min(file_date) as data_from, max(file_date) as data_through
    from {{ source('raw', 'landed_files') }}
    where source in ('postmart', 'voso') and status = 'loaded' and withdrawn_at is null

),

post_days as (

    select distinct
        scopes.scope_level, scopes.scope_code, scopes.map_version,
        platforms.platform_scope as platform,
        posts.posted_date
    from posts
    {{ expand_scopes('posts') }}
    where scopes.scope_code is not null

),

gaps as (

    select
        *,
        posted_date - lag(posted_date) over (
            partition by scope_level, scope_code, map_version, platform order by posted_date) as gap_days
    from post_days

),

-- every series with a post, in every period it existed while extracts were delivered; the gap is
-- measured up to the period end (or the scope's last day, or the last extract) from the period start
-- (or the scope's first day, or the first extract)
grid as (

    select * from (
        select s.scope_level, s.scope_code, s.map_version, s.platform, p.period_type, p.period_key,
               greatest(p.period_start, coalesce(sc.valid_from, '-infinity'::date),
                        coalesce(e.data_from, '-infinity'::date))                as from_date,
               least(p.period_end, coalesce(sc.valid_to, 'infinity'::date),
                     coalesce(e.data_through, 'infinity'::date))                 as to_date
        from (select distinct scope_level, scope_code, map_version, platform from post_days) as s
        left join scopes as sc using (scope_level, scope_code, map_version)
        cross join periods as p
        cross join extracts as e
    ) as g
    where from_date <= to_date

),

-- the longest gap closed by a post of the period; a scope's first post closes the gap since the period
-- (or scope) start, as if the day before were the last update
closed as (

    select g.scope_level, g.scope_code, g.map_version, g.platform, d.period_type, d.period_key,
           max(coalesce(g.gap_days, g.posted_date - d.from_date + 1)) as gap_days
    from gaps as g
    join grid as d using (scope_level, scope_code, map_version, platform)
    where g.posted_date between d.from_date and d.to_date
    group by 1, 2, 3, 4, 5, 6

),

-- the last post on or before each period end: posts and period ends in one ordered window (a post on
-- the end day sorts first)
marks as (

    select scope_level, scope_code, map_version, platform, posted_date as mark_date, 0 as mark_order,
           posted_date, null::text as period_type, null::text as period_key, null::date as from_date
    from post_days
    union all
    select scope_level, scope_code, map_version, platform, to_date, 1, null::date, period_type, period_key,
           from_date
    from grid

),

open_gaps as (

    select *
    from (
        select *, max(posted_date) over (
                      partition by scope_level, scope_code, map_version, platform
                      order by mark_date, mark_order rows between unbounded preceding and current row) as last_post
        from marks
    ) as m
    where mark_order = 1

)

select
    o.period_type, o.period_key, o.scope_level, o.scope_code, o.map_version, o.platform,
    'info_update_days'::text                      as indicator_code,
    (case when o.last_post is null then o.mark_date - o.from_date + 1   -- never posted yet
          else greatest(coalesce(c.gap_days, 0), o.mark_date - o.last_post)
     end)::numeric                                as value_in_period
from open_gaps as o
left join closed as c using (period_type, period_key, scope_level, scope_code, map_version, platform)
