{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=["{{ delete_changed_window('period_end') }}"],
    post_hook=["{{ create_index('period_end', 'period_end') }}", "{{ record_build_watermark() }}"]
) }}
{%- set _changes = ref('int_indicators__changes') -%}  {#- depends on the change driver (hooks, changed_from) -#}
{#- N.1 active accounts: distinct accounts with any activity in the period, recomputed for every
    period and scope (never summed over weeks or over lower scopes), from the account-periods.
    Incremental: the periods ending on or after the earliest changed date are recounted. -#}
with

periods as (
    select * from {{ ref('int_periods') }}
    {% if is_incremental() %} where period_end >= {{ changed_from() }} {% endif %}
),

account_periods as (select * from {{ ref('int_indicators__active_account_periods') }})

select
    a.period_type,
    a.period_key,
    a.scope_level,
    a.scope_code,
    a.map_version,
    a.platform,
    'active_accounts'::text     as indicator_code,
    count(*)::numeric           as value_in_period,
    p.period_end
from account_periods as a
join periods as p on p.period_type = a.period_type and p.period_key = a.period_key
group by a.period_type, a.period_key, a.scope_level, a.scope_code, a.map_version, a.platform, p.period_end
