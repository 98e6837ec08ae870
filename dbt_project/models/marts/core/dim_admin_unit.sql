{#- Every unit of both maps: provinces, pre2025 districts and communes, post2025 communes. -#}
with

units as (select * from {{ ref('ref_admin_units') }}),
provinces as (select * from {{ ref('int_geography__provinces') }}),
ref_provinces as (select * from {{ ref('ref_provinces') }}),

all_units as (

    select map_version, unit_level, unit_code, unit_name, division_type, province_code,
           nullif(district_code, '') as district_code, is_reporting_unit, valid_from, valid_to
    from units

    union all

    select map_version, 'province', province_code, province_name,
           case when province_name like 'Thành phố%' then 'thành phố trung ương' else 'tỉnh' end,
           province_code, null, false, valid_from, valid_to
    from ref_provinces

)

select
    (u.map_version || ':' || u.unit_level || ':' || u.unit_code)::text as unit_key,
    u.map_version::text                  as map_version,
    u.unit_level::text                   as unit_level,
    u.unit_code::text                    as unit_code,
    u.unit_name::text                    as unit_name,
    u.division_type::text                as division_type,
    u.province_code::text                as province_code,
    p.province_name::text                as province_name,
    u.district_code::text                as district_code,
    rp.region_code::text                 as region_code,
    rp.region_name::text                 as region_name,
    p.current_province_code::text        as current_province_code,
    cur.province_name::text              as current_province_name,
    u.is_reporting_unit::boolean         as is_reporting_unit,
    u.valid_from::date                   as valid_from,
    u.valid_to::date                     as valid_to
from all_units as u
left join provinces as p on p.map_version = u.map_version and p.province_code = u.province_code
left join ref_provinces as rp on rp.map_version = u.map_version and rp.province_code = u.province_code
left join ref_provinces as cur on cur.map_version = 'post2025' and cur.province_code = p.current_province_code
