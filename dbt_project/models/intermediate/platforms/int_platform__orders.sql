{#- One row per order of either platform in its LATEST version (latest updated_at, then extract
    date, file, row): a delivered order later returned is 'returned' here, which revises the weeks
    it was counted in. Seller attribution comes from the shop; the buyer's province is mapped to
    today's provinces (the code is of the map in force on the order date). -#}
with

orders as (

    select
        platform, order_id, ordered_at, shop_id, buyer_account_id, buyer_phone_hash, product_id,
        quantity, weight_t, amount_vnd, buyer_province_code, buyer_country, order_status,
        updated_at, extract_date, file_id, row_number
    from {{ ref('stg_postmart__orders') }}
    union all
    select
        platform, order_id, ordered_at, shop_id, buyer_account_id, buyer_phone_hash, product_id,
        quantity, weight_t, amount_vnd, buyer_province_code, buyer_country, order_status,
        updated_at, extract_date, file_id, row_number
    from {{ ref('stg_voso__orders') }}

),

latest as (

    select distinct on (platform, order_id) *
    from orders
    order by platform, order_id, updated_at desc nulls last, extract_date desc, file_id desc, row_number desc

),

shops as (select * from {{ ref('int_platform__shops') }}),
products as (select platform, product_id, product_group, product_type from {{ ref('int_platform__products') }}),
provinces as (select * from {{ ref('int_geo__provinces') }}),
phone_links as (select * from {{ ref('int_households__phone_links') }})

select
    latest.platform,
    latest.order_id,
    latest.ordered_at,
    {{ local_date('latest.ordered_at') }}                       as ordered_date,
    latest.shop_id,
    latest.buyer_account_id,
    phone_links.household_code                                  as buyer_household_code,
    latest.product_id,
    products.product_group,
    products.product_type,
    latest.quantity,
    latest.weight_t,
    latest.amount_vnd,
    latest.order_status,
    latest.order_status = 'success'                             as is_successful,
    latest.updated_at,
    latest.buyer_province_code,
    coalesce(buyer_province.current_province_code,
             buyer_province_other_map.current_province_code)    as buyer_current_province_code,
    coalesce(latest.buyer_country, 'VN')                        as buyer_country,
    shops.household_code                                        as seller_household_code,
    shops.unit_map_version,
    shops.unit_code,
    shops.province_code,
    shops.current_province_code,
    shops.region_code
from latest
left join shops on shops.platform = latest.platform and shops.shop_id = latest.shop_id
left join products on products.platform = latest.platform and products.product_id = latest.product_id
left join provinces as buyer_province
    on buyer_province.map_version = {{ map_version_for(local_date('latest.ordered_at')) }}
   and buyer_province.province_code = latest.buyer_province_code
-- an old province code still sent just after the reform is read on the other map
left join provinces as buyer_province_other_map
    on buyer_province.province_code is null
   and buyer_province_other_map.map_version <> {{ map_version_for(local_date('latest.ordered_at')) }}
   and buyer_province_other_map.province_code = latest.buyer_province_code
left join phone_links on phone_links.phone_hash = latest.buyer_phone_hash
