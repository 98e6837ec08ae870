{{ config(
    pre_hook=["{{ delete_changed_window('first_date') }}"],
    post_hook=["{{ create_index('first_date', 'day') }}",
               "{{ create_index('indicator_code, scope_level, scope_code, map_version, platform, member_key', 'key', unique=true) }}"]
) }}
{#- The day each stock member first counts in each scope and platform (count distinct per scope,
    never a sum of lower levels: a buyer province reached by two units is one market of the province).
    Incremental: with D = the earliest changed date (int_indicators__changes), the rows first seen on
    or after D are deleted (pre-hook) and recomputed from the members' events on or after D; a member
    still first seen before D keeps its row (its events before D did not change), so it is left out. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
with members as (

    -- each member's first day per attribution before the scopes are expanded: a buyer province is a
    -- member once per unit, not once per order (10x fewer rows to expand at national scale)
    select
        indicator_code, platform, member_key,
        unit_map_version, unit_code, province_code, current_province_code, region_code,
        min(event_date) as event_date
    from {{ ref('int_indicators__stock_members') }}
    {% if is_incremental() %}
    where event_date >= {{ changed_from() }}
    {% endif %}
    group by 1, 2, 3, 4, 5, 6, 7, 8

),

first_seen as (

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

)

select * from first_seen as f
{% if is_incremental() %}
where not exists (
    select 1 from {{ this }} as t
    where t.indicator_code = f.indicator_code and t.scope_level = f.scope_level and t.scope_code = f.scope_code
      and t.map_version = f.map_version and t.platform = f.platform and t.member_key = f.member_key)
{% endif %}
