{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=["{{ reset_without_watermark() }}"],
    post_hook=["{{ create_index('period_type, period_key', 'period') }}",
               "{{ create_index('account_id, period_key, scope_code, platform', 'key') }}",
               "{{ record_build_watermark() }}"]
) }}
{%- set _changes = ref('int_indicators__changes') -%}  {#- depends on the change driver (hooks, changed_from) -#}
{#- N.1 active accounts, first-seen form: one row per period (week, month, half-year, year), scope,
    platform and account active in it. Incremental: activity never retracts, so the account-periods
    of activity days on or after the earliest changed date that are not there yet are added. -#}
with

activities as (
    select * from {{ ref('int_platform__activities') }}
    {% if is_incremental() %} where activity_date >= {{ changed_from() }} {% endif %}
),

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

),

expanded as (

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

select * from expanded as e
{% if is_incremental() %}
where not exists (
    select 1 from {{ this }} as t
    where t.account_id = e.account_id and t.period_key = e.period_key and t.scope_code = e.scope_code
      and t.platform = e.platform and t.period_type = e.period_type and t.scope_level = e.scope_level
      and t.map_version = e.map_version and t.account_platform = e.account_platform)
{% endif %}
