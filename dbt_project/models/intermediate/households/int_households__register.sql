{#- Register rows with the reporting unit of their file (the unit that sent the snapshot). -#}
with

households as (select * from {{ ref('stg_household_register__households') }}),
units as (select * from {{ ref('int_geography__reporting_units') }})

select
    h.file_id,
    h.row_number,
    h.unit_code,
    h.map_version,
    h.snapshot_date,
    h.household_code,
    h.phone_hash,
    h.citizen_id_hash,
    h.commune_code,
    h.household_type,
    -- the household indicators count agricultural production households (Hộ SXNN); a blank type
    -- in the register of hộ SXNN is taken as one
    coalesce(lower(normalize(trim(h.household_type), NFC)) in ('hộ sxnn', 'ho sxnn', 'sxnn'), true) as is_sxnn,
    h.trained_digital_on,
    h.trained_logistics_on,
    u.province_code,
    u.current_province_code,
    u.region_code
from households as h
left join units as u
    on u.map_version = h.map_version and u.unit_code = h.unit_code
