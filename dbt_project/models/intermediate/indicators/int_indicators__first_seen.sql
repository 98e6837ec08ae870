{#- The day each stock member first counts in each scope and platform (count distinct per scope,
    never a sum of lower levels: a buyer province reached by two units is one market of the province). -#}
with members as (select * from {{ ref('int_indicators__stock_members') }})

select
    m.indicator_code,
    scopes.scope_level,
    scopes.scope_code,
    scopes.map_version,
    platforms.platform_scope  as platform,
    m.member_key,
    min(m.event_date)         as first_date
from members as m
{{ expand_scopes('m') }}
where scopes.scope_code is not null
group by 1, 2, 3, 4, 5, 6
