{#- Each household as in the latest snapshot that lists it (its current unit, phone, training). -#}
with register as (select * from {{ ref('int_households__register') }})

select distinct on (household_code)
    household_code,
    phone_hash,
    unit_code,
    map_version,
    province_code,
    current_province_code,
    region_code,
    snapshot_date,
    household_type,
    is_sxnn,
    trained_digital_on,
    trained_logistics_on
from register
order by household_code, snapshot_date desc, file_id desc, row_number desc
