{#- Information posts of both platforms (latest version of each post) with their province on
    both maps and region. -#}
with

posts as (

    select * from {{ ref('stg_postmart__info_posts') }}
    union all
    select * from {{ ref('stg_voso__info_posts') }}

),

latest as (

    select distinct on (platform, post_id) *
    from posts
    order by platform, post_id, extract_date desc, {{ latest_delivery_first() }}

),

provinces as (select * from {{ ref('int_geography__provinces') }})

select
    latest.platform,
    latest.post_id,
    latest.category,
    latest.posted_at,
    {{ local_date('latest.posted_at') }}                  as posted_date,
    coalesce(provinces.map_version, other_map.map_version,
             {{ map_version_for(local_date('latest.posted_at')) }})        as unit_map_version,
    latest.province_code,
    coalesce(provinces.current_province_code, other_map.current_province_code) as current_province_code,
    coalesce(provinces.region_code, other_map.region_code)                     as region_code
from latest
left join provinces
    on provinces.map_version = {{ map_version_for(local_date('latest.posted_at')) }}
   and provinces.province_code = latest.province_code
-- an old province code still sent just after the reform is read on the other map
left join provinces as other_map
    on provinces.province_code is null
   and other_map.map_version <> {{ map_version_for(local_date('latest.posted_at')) }}
   and other_map.province_code = latest.province_code
