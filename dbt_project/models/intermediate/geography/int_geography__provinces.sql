{#- Provinces of both maps -> today's (post2025) province and its region. -#}
with

provinces as (select * from {{ ref('ref_provinces') }}),
crosswalk as (select * from {{ ref('ref_province_crosswalk') }}),

mapped as (

    select
        p.map_version,
        p.province_code,
        p.province_name,
        p.province_short_name,
        case when p.map_version = 'pre2025' then x.new_province_code else p.province_code end as current_province_code
    from provinces as p
    left join crosswalk as x
        on p.map_version = 'pre2025' and x.old_province_code = p.province_code

)

select
    mapped.*,
    cur.region_code,
    cur.region_name
from mapped
left join provinces as cur
    on cur.map_version = 'post2025' and cur.province_code = mapped.current_province_code
