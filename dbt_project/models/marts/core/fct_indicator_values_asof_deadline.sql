{#- The published value of every indicator AS IT STOOD AT THE PERIOD'S DEADLINE, next to the latest
    value, so a published report can be reproduced after late forms / returned orders revised it.
    Grain: period_type x period_key x scope_level x scope_code x indicator_code of every published
    scope (ops.published_values; publications are on today's boundaries, platform 'all').
    deadline_*: the latest revision published at or before dim_period.deadline_at (NULL when the
    scope was first published after the deadline). latest_*: the current fct_indicator_values row.
    revised_after_deadline: a revision published after the deadline changed this row's values. -#}
with

published as (select * from {{ source('ops', 'published_values') }}),
periods as (select * from {{ ref('dim_period') }}),
facts as (
    select * from {{ ref('fct_indicator_values') }}
    where map_version = 'post2025' and platform = 'all'
),

timed as (

    select
        pv.*,
        p.deadline_at,
        pv.published_at <= p.deadline_at as is_by_deadline
    from published as pv
    left join periods as p using (period_type, period_key)

),

at_deadline as (

    select distinct on (period_type, period_key, scope_level, scope_code, indicator_code) *
    from timed
    where is_by_deadline
    order by period_type, period_key, scope_level, scope_code, indicator_code, revision desc

),

latest_published as (

    select distinct on (period_type, period_key, scope_level, scope_code, indicator_code) *
    from timed
    order by period_type, period_key, scope_level, scope_code, indicator_code, revision desc

),

revised as (

    select t.period_type, t.period_key, t.scope_level, t.scope_code, t.indicator_code,
           count(*) as revisions_after_deadline
    from timed as t
    left join at_deadline as d using (period_type, period_key, scope_level, scope_code, indicator_code)
    where not coalesce(t.is_by_deadline, false)
      and (d.revision is null
           or t.value_in_period is distinct from d.value_in_period
           or t.cumulative_value is distinct from d.cumulative_value
           or t.target_value is distinct from d.target_value
           or t.target_attainment_pct is distinct from d.target_attainment_pct)
    group by 1, 2, 3, 4, 5

)

select
    l.period_type::text                                   as period_type,
    l.period_key::text                                    as period_key,
    l.scope_level::text                                   as scope_level,
    l.scope_code::text                                    as scope_code,
    l.map_version::text                                   as map_version,
    l.platform::text                                      as platform,
    l.indicator_code::text                                as indicator_code,
    l.deadline_at::timestamptz                            as deadline_at,
    d.revision::integer                                   as deadline_revision,
    d.published_at::timestamptz                           as deadline_published_at,
    d.value_in_period::numeric                            as value_in_period,
    d.growth_pct::numeric                                 as growth_pct,
    d.cumulative_value::numeric                           as cumulative_value,
    d.target_value::numeric                               as target_value,
    d.target_attainment_pct::numeric                      as target_attainment_pct,
    d.is_sample_target::boolean                           as is_sample_target,
    l.revision::integer                                   as latest_revision,
    l.published_at::timestamptz                           as latest_published_at,
    f.value_in_period::numeric                            as latest_value,
    f.cumulative_value::numeric                           as latest_cumulative_value,
    f.target_attainment_pct::numeric                      as latest_target_attainment_pct,
    (d.revision is not null)::boolean                     as is_published_by_deadline,
    (coalesce(r.revisions_after_deadline, 0) > 0)::boolean as revised_after_deadline,
    (d.revision is not null
     and (f.value_in_period is distinct from d.value_in_period
          or f.cumulative_value is distinct from d.cumulative_value))::boolean as differs_from_latest
from latest_published as l
left join at_deadline as d using (period_type, period_key, scope_level, scope_code, indicator_code)
left join revised as r using (period_type, period_key, scope_level, scope_code, indicator_code)
left join facts as f
    on f.period_type = l.period_type and f.period_key = l.period_key and f.scope_level = l.scope_level
   and f.scope_code = l.scope_code and f.indicator_code = l.indicator_code
