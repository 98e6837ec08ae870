{#- Daily changes of every running series: new stock members per day, flow amounts per day. -#}
with

first_seen as (select * from {{ ref('int_indicators__first_seen') }}),
flows as (select * from {{ ref('int_indicators__flow_events') }}),

stock_deltas as (

    select indicator_code, scope_level, scope_code, map_version, platform,
           first_date as day, count(*)::numeric as delta
    from first_seen
    group by 1, 2, 3, 4, 5, 6

),

flow_deltas as (

    select f.indicator_code, scopes.scope_level, scopes.scope_code, scopes.map_version,
           platforms.platform_scope as platform, f.event_date as day, sum(f.amount) as delta
    from flows as f
    {{ expand_scopes('f') }}
    where scopes.scope_code is not null and f.event_date is not null
    group by 1, 2, 3, 4, 5, 6

)

select * from stock_deltas
union all
select * from flow_deltas
