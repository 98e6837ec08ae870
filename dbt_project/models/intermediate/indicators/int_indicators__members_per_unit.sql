{{ config(
    pre_hook=["{{ delete_changed_window('first_date') }}"],
    post_hook=["{{ create_index('first_date', 'day') }}",
               "drop index if exists {{ this.schema }}.{{ this.identifier }}__key",
               "{{ create_index(probe_key(['indicator_code', 'member_key', 'platform'],
                                          ['unit_map_version', 'unit_code', 'province_code', 'current_province_code', 'region_code']),
                                'probe', unique=true,
                                include='unit_map_version, unit_code, province_code, current_province_code, region_code') }}"]
) }}  {#- the key: a member, its platform and its attribution, as stored_row_probe() below looks it up in
    the index only (the `key` index of earlier builds, without the plain columns, is dropped) -#}
{%- set key = ['indicator_code', 'member_key', 'platform'] -%}
{%- set attribution = ['unit_map_version', 'unit_code', 'province_code', 'current_province_code', 'region_code'] -%}
{#- The day each stock member first counts on each platform in each reporting unit it is attributed
    to. Not expanded to the scopes above the unit: nearly every member (a product, a household, an
    account-year) has one attribution only, and int_indicators__daily_deltas adds those up the
    levels; only the few members with several (a buyer province reached from many units, a
    household on both platforms) are counted distinct per scope there. Expanding every member
    instead wrote 11-17M rows for a national week.
    Incremental: with D = the earliest changed date, the rows first seen on or after D are deleted
    (pre-hook) and recomputed from the members' events on or after D; an attribution still first
    seen before D keeps its row (its events before D did not change), so it is left out. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
with members as (

    -- a buyer province is a member once per unit, not once per order
    select
        indicator_code, member_key, platform,
        unit_map_version, unit_code, province_code, current_province_code, region_code,
        min(event_date) as first_date
    from {{ ref('int_indicators__stock_members') }}
    {% if is_incremental() %}
    where event_date >= {{ changed_from() }}
    {% endif %}
    group by 1, 2, 3, 4, 5, 6, 7, 8

)

select m.* from members as m
{% if is_incremental() %}
{{ stored_row_probe('m', key, attribution) }}
where m_stored.found is null
{% endif %}
