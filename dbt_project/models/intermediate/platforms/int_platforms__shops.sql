{#- One row per shop of either platform: its latest version, the household it belongs to (by
    household code when present, else by pseudonymised phone), the date it got an e-wallet, and its
    attribution: the reporting unit of its commune on the map in force at the shop's creation. -#}
with

shops as (

    select * from {{ ref('stg_postmart__shops') }}
    union all
    select * from {{ ref('stg_voso__shops') }}

),

versions as (

    select
        *,
        row_number() over (partition by platform, shop_id
                           order by extract_date desc, {{ latest_delivery_first() }}) as version_desc,
        row_number() over (partition by platform, shop_id
                           order by extract_date, {{ latest_delivery_first(direction='asc') }}) as version_asc
    from shops

),

first_created as (

    select
        platform,
        shop_id,
        min(created_at)                                                         as created_at,
        -- the day the shop first showed an e-wallet: its creation when the first version has one
        min(case when has_epay then case when version_asc = 1 then {{ local_date('created_at') }}
                                         else extract_date end end)              as epay_seen_on
    from versions
    group by platform, shop_id

),

latest as (

    select * from versions where version_desc = 1

),

phone_links as (select * from {{ ref('int_households__phone_links') }}),
households as (select household_code, is_sxnn from {{ ref('int_households__latest') }}),
communes as (select * from {{ ref('int_geography__communes') }}),

joined as (

    select
        latest.platform,
        latest.shop_id,
        latest.owner_phone_hash,
        latest.household_code                                          as reported_household_code,
        coalesce(latest.household_code, phone_links.household_code)    as household_code,
        case when latest.household_code is not null then 'household_code'
             when phone_links.household_code is not null then 'phone' end as household_link,
        latest.commune_code,
        first_created.created_at,
        {{ local_date('first_created.created_at') }}                   as created_date,
        latest.has_epay,
        -- greatest() ignores NULLs in PostgreSQL: keep NULL when the shop never had an e-wallet
        case when first_created.epay_seen_on is not null
             then greatest(first_created.epay_seen_on, {{ local_date('first_created.created_at') }}) end as epay_since,
        latest.shop_status
    from latest
    join first_created using (platform, shop_id)
    left join phone_links on phone_links.phone_hash = latest.owner_phone_hash

)

select
    joined.*,
    -- the household indicators count Hộ SXNN only (a code missing from the register counts)
    coalesce(households.is_sxnn, joined.household_code is not null)  as is_sxnn_household,
    -- a code unknown on the map in force (an old code still sent just after 1 July 2025) is read on
    -- the other map, so the shop is not lost at the reform
    coalesce(communes.map_version, other_map.map_version, {{ map_version_for('joined.created_date') }}) as unit_map_version,
    coalesce(communes.unit_code, other_map.unit_code)                         as unit_code,
    coalesce(communes.province_code, other_map.province_code)                 as province_code,
    coalesce(communes.current_province_code, other_map.current_province_code) as current_province_code,
    coalesce(communes.region_code, other_map.region_code)                     as region_code
from joined
left join households on households.household_code = joined.household_code
left join communes
    on communes.map_version = {{ map_version_for('joined.created_date') }}
   and communes.commune_code = joined.commune_code
left join communes as other_map
    on communes.commune_code is null
   and other_map.map_version <> {{ map_version_for('joined.created_date') }}
   and other_map.commune_code = joined.commune_code
