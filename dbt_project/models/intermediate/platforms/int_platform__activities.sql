{#- Account activity of both platforms, deduplicated to one row per account, day and commune, with
    the reporting unit of the commune on the map in force that day. -#}
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

),

communes as (select * from {{ ref('int_geo__communes') }})

select
    daily.platform,
    daily.account_id,
    daily.activity_date,
    daily.commune_code,
    {{ map_version_for('daily.activity_date') }} as unit_map_version,
    communes.unit_code,
    communes.province_code,
    communes.current_province_code,
    communes.region_code
from daily
left join communes
    on communes.map_version = {{ map_version_for('daily.activity_date') }}
   and communes.commune_code = daily.commune_code
