{#- N.1 active accounts: distinct accounts with any activity in the period, recomputed for every
    period and scope (never summed over weeks or over lower scopes). -#}
with

activities as (select * from {{ ref('int_platform__activities') }}),
periods as (select * from {{ ref('int_periods') }}),

in_period as (

    -- each activity day falls in exactly one period of each type: derive the keys, no range join
    select distinct
        k.period_type, k.period_key,
        a.platform, a.account_id,
        a.unit_map_version, a.unit_code, a.province_code, a.current_province_code, a.region_code
    from activities as a
    cross join lateral (values
        ('week'::text,      to_char(a.activity_date, 'IYYY-"W"IW')),
        ('month'::text,     to_char(a.activity_date, 'YYYY-MM')),
        ('half_year'::text, to_char(a.activity_date, 'YYYY') || '-H'
                            || case when extract(month from a.activity_date) <= 6 then '1' else '2' end),
        ('year'::text,      to_char(a.activity_date, 'YYYY'))
    ) as k (period_type, period_key)
    join periods as p on p.period_type = k.period_type and p.period_key = k.period_key

),

expanded as (

    -- one row per account and scope: a hashed DISTINCT, then a plain count
    select distinct
        i.period_type,
        i.period_key,
        scopes.scope_level,
        scopes.scope_code,
        scopes.map_version,
        platforms.platform_scope as platform,
        i.platform               as account_platform,
        i.account_id
    from in_period as i
    {{ expand_scopes('i') }}
    where scopes.scope_code is not null

)

select
    period_type,
    period_key,
    scope_level,
    scope_code,
    map_version,
    platform,
    'active_accounts'::text     as indicator_code,
    count(*)::numeric           as value_in_period
from expanded
group by 1, 2, 3, 4, 5, 6
