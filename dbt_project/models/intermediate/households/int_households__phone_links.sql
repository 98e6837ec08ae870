{#- Pseudonymised phone -> household, for platform accounts opened without a household code. When
    several households share a phone, the one of the latest snapshot (then the lowest code) wins. -#}
with register as (select * from {{ ref('int_households__register') }})

select distinct on (phone_hash)
    phone_hash,
    household_code
from register
where phone_hash is not null
order by phone_hash, snapshot_date desc, file_id desc, household_code
