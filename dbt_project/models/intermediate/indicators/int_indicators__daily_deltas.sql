{{ config(
    pre_hook=["{{ delete_changed_window('day') }}"],
    post_hook=["{{ create_index('day', 'day') }}",
               "{{ create_index('indicator_code, scope_level, scope_code, map_version, platform', 'series') }}"]
) }}
{#- Daily changes of every running series: new stock members per day, flow amounts per day.
    Incremental: the days on or after the earliest changed date are deleted and recomputed. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
with

first_seen as (
    select * from {{ ref('int_indicators__first_seen') }}
    {% if is_incremental() %} where first_date >= {{ changed_from() }} {% endif %}
),
flows as (
    select * from {{ ref('int_indicators__flow_events') }}
    {% if is_incremental() %} where event_date >= {{ changed_from() }} {% endif %}
),

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
