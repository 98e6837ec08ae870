{#- Every commune of both maps with the reporting unit it rolls up to (pre2025: its district;
    post2025: the commune itself), its province as on that map, today's province and region. -#}
with

units as (select * from {{ ref('ref_admin_units') }}),
provinces as (select * from {{ ref('ref_provinces') }}),
crosswalk as (select * from {{ ref('ref_province_crosswalk') }}),

communes as (

    select
        c.map_version,
        c.unit_code                                                   as commune_code,
        case when c.map_version = 'pre2025' then c.district_code else c.unit_code end as unit_code,
        c.province_code,
        case when c.map_version = 'pre2025' then x.new_province_code else c.province_code end as current_province_code
    from units as c
    left join crosswalk as x
        on c.map_version = 'pre2025' and x.old_province_code = c.province_code
    where c.unit_level = 'commune'

)

select
    communes.*,
    p.region_code
from communes
left join provinces as p
    on p.map_version = 'post2025' and p.province_code = communes.current_province_code
