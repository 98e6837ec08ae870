{#- Every scope a value can be published for, with the days it existed (valid_from..valid_to):
    reporting units of both maps and provinces as reported (pre2025) exist only on their own map's days
    (ref_admin_units / ref_provinces: a district abolished on 1 July 2025 ends on 30 June 2025, a
    commune created that day starts on it); provinces on today's boundaries, regions and the nation are
    the continuous series across the 2025 reform (the pre-reform periods re-computed on today's map),
    so they exist on every day. A period has rows for a scope when the two overlap. -#}
with

units as (select * from {{ ref('ref_admin_units') }} where is_reporting_unit),
provinces as (select * from {{ ref('ref_provinces') }})

select 'unit'::text as scope_level, unit_code::text as scope_code, map_version::text as map_version,
       valid_from::date as valid_from, valid_to::date as valid_to
from units
union all
select 'province', province_code, map_version, valid_from, valid_to
from provinces where map_version = 'pre2025'
union all
select 'province', province_code, map_version, '-infinity'::date, 'infinity'::date
from provinces where map_version = 'post2025'
union all
select distinct 'region', region_code, 'post2025', '-infinity'::date, 'infinity'::date
from provinces where map_version = 'post2025'
union all
select 'nation', '{{ var("nation_code") }}', 'post2025', '-infinity'::date, 'infinity'::date
