{{ config(
    pre_hook=["set local enable_mergejoin = off",
              "{{ delete_changed_window('day') }}"],
    post_hook=["{{ create_index('day', 'day') }}",
               "{{ create_index('indicator_code, scope_level, scope_code, map_version, platform', 'series') }}"]
) }}  {#- hash joins (enable_mergejoin off): the members with several attributions are a small hash; merge
       joins sorted all 1.6M national members by their text key twice (24 s vs 18 s) -#}
{#- Daily changes of every running series: new stock members per day, flow amounts per day.
    A stock member counts once per scope and platform, on the first day it is seen there (count
    distinct per scope, never a sum of lower levels: a buyer province reached from two units is one
    market of the province). A member with one attribution only (one platform, one unit: nearly
    all) is first seen in every scope holding that unit on the same day, so those are counted per
    unit and the counts added up the levels; the members with several attributions take the
    earliest day over all of them, scope by scope.
    Incremental: the days on or after the earliest changed date D are deleted and recomputed; a
    member with several attributions is looked at over all its days, and counts only in the scopes
    it first reaches on or after D. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
with

members as (select * from {{ ref('int_indicators__members_per_unit') }}),
new_members as (
    select * from members
    {% if is_incremental() %} where first_date >= {{ changed_from() }} {% endif %}
),
flows as (
    select * from {{ ref('int_indicators__flow_events') }}
    {% if is_incremental() %} where event_date >= {{ changed_from() }} {% endif %}
),

several_attributions as (

    select m.indicator_code, m.member_key
    {% if is_incremental() %}
    from (select distinct indicator_code, member_key from new_members) as k
    join members as m on m.indicator_code = k.indicator_code and m.member_key = k.member_key
    {% else %}
    from members as m
    {% endif %}
    group by 1, 2
    having count(*) > 1

),

-- what adds up level by level, per unit and day: the members with one attribution (counted) and the
-- flow amounts (summed) -- expanded to the scopes once, not one row of ten per member or order
additive_per_unit as (

    select n.indicator_code, n.platform,
           n.unit_map_version, n.unit_code, n.province_code, n.current_province_code, n.region_code,
           n.first_date as day, count(*)::numeric as delta
    from new_members as n
    where not exists (select 1 from several_attributions as s
                      where s.indicator_code = n.indicator_code and s.member_key = n.member_key)
    group by 1, 2, 3, 4, 5, 6, 7, 8

    union all
    select indicator_code, platform,
           unit_map_version, unit_code, province_code, current_province_code, region_code,
           event_date, sum(amount)
    from flows
    where event_date is not null
    group by 1, 2, 3, 4, 5, 6, 7, 8

),

several_first_seen as (

    -- over all the member's days: a scope it reached before D is not new in the window
    select m.indicator_code, scopes.scope_level, scopes.scope_code, scopes.map_version,
           platforms.platform_scope as platform, m.member_key, min(m.first_date) as first_date
    from members as m
    join several_attributions as s on s.indicator_code = m.indicator_code and s.member_key = m.member_key
    {{ expand_scopes('m') }}
    where scopes.scope_code is not null
    group by 1, 2, 3, 4, 5, 6

),

deltas as (

    select u.indicator_code, scopes.scope_level, scopes.scope_code, scopes.map_version,
           platforms.platform_scope as platform, u.day, u.delta
    from additive_per_unit as u
    {{ expand_scopes('u') }}
    where scopes.scope_code is not null

    union all
    select indicator_code, scope_level, scope_code, map_version, platform, first_date, 1
    from several_first_seen
    {% if is_incremental() %} where first_date >= {{ changed_from() }} {% endif %}

)

select indicator_code, scope_level, scope_code, map_version, platform, day, sum(delta) as delta
from deltas
group by 1, 2, 3, 4, 5, 6
