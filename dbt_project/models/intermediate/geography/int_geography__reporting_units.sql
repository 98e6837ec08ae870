{#- Reporting units (pre2025 districts, post2025 communes) with province, today's province, region,
    and the days the unit existed (valid_from..valid_to: a district ends on 30 June 2025, a commune of
    the new map starts on 1 July 2025). -#}
with

units as (select * from {{ ref('ref_admin_units') }}),
provinces as (select * from {{ ref('ref_provinces') }}),
crosswalk as (select * from {{ ref('ref_province_crosswalk') }}),

reporting_units as (

    select
        u.map_version,
        u.unit_code,
        u.unit_name,
        u.province_code,
        u.valid_from,
        u.valid_to,
        case when u.map_version = 'pre2025' then x.new_province_code else u.province_code end as current_province_code
    from units as u
    left join crosswalk as x
        on u.map_version = 'pre2025' and x.old_province_code = u.province_code
    where u.is_reporting_unit

)

select
    reporting_units.*,
    p.region_code
from reporting_units
left join provinces as p
    on p.map_version = 'post2025' and p.province_code = reporting_units.current_province_code
