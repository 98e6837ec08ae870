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
    order by platform, post_id, extract_date desc, file_id desc, row_number desc

),

provinces as (select * from {{ ref('int_geo__provinces') }})

select
    latest.platform,
    latest.post_id,
    latest.category,
    latest.posted_at,
    {{ local_date('latest.posted_at') }}                  as posted_date,
    {{ map_version_for(local_date('latest.posted_at')) }} as unit_map_version,
    latest.province_code,
    provinces.current_province_code,
    provinces.region_code
from latest
left join provinces
    on provinces.map_version = {{ map_version_for(local_date('latest.posted_at')) }}
   and provinces.province_code = latest.province_code
