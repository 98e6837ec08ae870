{{ config(
    pre_hook=["{{ reset_without_watermark() }}"],
    post_hook=["{{ create_index('activity_date', 'day') }}", "{{ create_index('platform, account_id, activity_date', 'key') }}"]
) }}
{#- Account activity of both platforms, deduplicated to one row per account, day and commune, with
    the reporting unit of the commune on the map in force that day. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
with

activities as (

    select * from {{ ref('stg_postmart__activities') }}
    union all
    select * from {{ ref('stg_voso__activities') }}

),

daily as (

    select distinct
        platform,
        account_id,
        {{ local_date('occurred_at') }} as activity_date,
        commune_code
    from activities
    where account_id is not null and occurred_at is not null
    {% if is_incremental() %}
      and file_id > {{ build_watermark() }}
    {% endif %}

),

fresh as (

    select daily.* from daily
    {% if is_incremental() %}
    -- only account-days not there yet (append), each probed by the key index (commune_code is never
    -- empty: staging makes a blank code NULL)
    {{ stored_row_probe('daily', ['platform', 'account_id', 'activity_date'], nullable=['commune_code']) }}
    where daily_stored.found is null
    {% endif %}

),

communes as (select * from {{ ref('int_geography__communes') }})

select
    daily.platform,
    daily.account_id,
    daily.activity_date,
    daily.commune_code,
    coalesce(communes.map_version, other_map.map_version, {{ map_version_for('daily.activity_date') }}) as unit_map_version,
    coalesce(communes.unit_code, other_map.unit_code)                         as unit_code,
    coalesce(communes.province_code, other_map.province_code)                 as province_code,
    coalesce(communes.current_province_code, other_map.current_province_code) as current_province_code,
    coalesce(communes.region_code, other_map.region_code)                     as region_code
from fresh as daily
left join communes
    on communes.map_version = {{ map_version_for('daily.activity_date') }}
   and communes.commune_code = daily.commune_code
-- an old code still sent just after the reform is read on the other map (not lost)
left join communes as other_map
    on communes.commune_code is null
   and other_map.map_version <> {{ map_version_for('daily.activity_date') }}
   and other_map.commune_code = daily.commune_code
