{{ config(
    pre_hook=["set local enable_mergejoin = off",
              "{{ delete_changed_window('period_end') }}"],
    post_hook=["{{ create_index('period_end', 'period_end') }}"]
) }}  {#- hash joins (enable_mergejoin off): the few accounts in several units (684 of 3.9M account-periods
       nationally) are a small hash; the merge joins sorted all account-periods twice on disk (43 s vs 10 s) -#}
{#- N.1 active accounts: distinct accounts with any activity in the period, recomputed for every
    period and scope (never summed over weeks), from the account-periods (one row per period,
    account and unit). An account active in one unit only (nearly all) counts once in each scope
    holding that unit, so those are counted per unit and the counts added up the levels; the few
    accounts active in several units of a period are counted distinct per scope. 'all' platforms
    adds the platforms: an account belongs to one platform.
    Incremental: the periods ending on or after the earliest changed date are recounted. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
with

periods as (
    select * from {{ ref('int_calendar__periods') }}
    {% if is_incremental() %} where period_end >= {{ changed_from() }} {% endif %}
),

account_periods as (
    select a.*
    from {{ ref('int_indicators__active_account_periods') }} as a
    join periods as p on p.period_type = a.period_type and p.period_key = a.period_key
),

in_several_units as (
    select period_type, period_key, platform, account_id
    from account_periods
    group by 1, 2, 3, 4
    having count(*) > 1
),

single_unit_per_unit as (

    select a.period_type, a.period_key, a.platform,
           a.unit_map_version, a.unit_code, a.province_code, a.current_province_code, a.region_code,
           count(*) as accounts
    from account_periods as a
    where not exists (select 1 from in_several_units as s
                      where s.period_type = a.period_type and s.period_key = a.period_key
                        and s.platform = a.platform and s.account_id = a.account_id)
    group by 1, 2, 3, 4, 5, 6, 7, 8

),

counted as (

    select u.period_type, u.period_key, scopes.scope_level, scopes.scope_code, scopes.map_version,
           platforms.platform_scope as platform, sum(u.accounts) as accounts
    from single_unit_per_unit as u
    {{ expand_scopes('u') }}
    where scopes.scope_code is not null
    group by 1, 2, 3, 4, 5, 6

    union all
    select a.period_type, a.period_key, scopes.scope_level, scopes.scope_code, scopes.map_version,
           platforms.platform_scope, count(distinct (a.platform, a.account_id))
    from account_periods as a
    join in_several_units as s
        on s.period_type = a.period_type and s.period_key = a.period_key
       and s.platform = a.platform and s.account_id = a.account_id
    {{ expand_scopes('a') }}
    where scopes.scope_code is not null
    group by 1, 2, 3, 4, 5, 6

)

select
    c.period_type,
    c.period_key,
    c.scope_level,
    c.scope_code,
    c.map_version,
    c.platform,
    'active_accounts'::text     as indicator_code,
    sum(c.accounts)::numeric    as value_in_period,
    p.period_end
from counted as c
join periods as p on p.period_type = c.period_type and p.period_key = c.period_key
group by c.period_type, c.period_key, c.scope_level, c.scope_code, c.map_version, c.platform, p.period_end
