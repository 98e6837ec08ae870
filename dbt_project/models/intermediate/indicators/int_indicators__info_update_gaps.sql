{#- IV.2 gauge: the longest gap in days between consecutive information posts, over the posts made
    within the period (each measured from the post before it, which may lie in an earlier period),
    per scope and platform, on local dates. NULL when nothing was posted in the period. -#}
with

posts as (

    select *, null::text as unit_code
    from {{ ref('int_platforms__info_posts') }}
    where posted_date is not null

),

periods as (select * from {{ ref('int_calendar__periods') }}),

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

)

select
    p.period_type, p.period_key, g.scope_level, g.scope_code, g.map_version, g.platform,
    'info_update_days'::text                      as indicator_code,
    coalesce(max(g.gap_days), 0)::numeric         as value_in_period
from gaps as g
join periods as p on g.posted_date between p.period_start and p.period_end
group by 1, 2, 3, 4, 5, 6
