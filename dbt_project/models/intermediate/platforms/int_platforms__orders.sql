{{ config(
    incremental_strategy='delete+insert',
    unique_key=['platform', 'order_id'],
    on_schema_change='append_new_columns',
    pre_hook=["{{ reset_without_watermark() }}"],
    post_hook=["{{ create_index('platform, order_id', 'key', unique=true) }}", "{{ create_index('ordered_date', 'day') }}",
               "{{ create_index('platform, shop_id', 'shop') }}", "{{ create_index('platform, product_id', 'product') }}"]
) }}
{#- One row per order of either platform in its LATEST version (latest updated_at, then extract
    date, then the latest delivery: arrival, file, row — macros/staging.sql, so a corrected
    re-delivery of a day wins): a delivered order later returned is 'returned' here, which revises the
    weeks it was counted in.
    Incremental: the orders with a version in a file landed since the last build, and the orders of
    shops / products whose attribution or type changed, are recomputed from their new versions and
    their current latest version (kept here with its ordering columns); a new household register
    recomputes every order (buyer and seller household links). Seller attribution comes from the shop; the buyer's province is mapped to
    today's provinces (the code is of the map in force on the order date). -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
-- depends_on: {{ ref('stg_household_register__households') }}  {# incremental: registers landed since the last build #}
-- depends_on: {{ ref('int_platforms__shop_versions') }}  {# incremental: shops new or moved since #}
-- depends_on: {{ ref('int_platforms__product_versions') }}  {# incremental: products new, moved or re-typed since #}
with

orders as (

    select
        platform, order_id, ordered_at, shop_id, buyer_account_id, buyer_phone_hash, product_id,
        quantity, weight_t, amount_vnd, buyer_province_code, buyer_country, order_status,
        updated_at, extract_date, file_id, row_number, arrived_at
    from {{ ref('stg_postmart__orders') }}
    union all
    select
        platform, order_id, ordered_at, shop_id, buyer_account_id, buyer_phone_hash, product_id,
        quantity, weight_t, amount_vnd, buyer_province_code, buyer_country, order_status,
        updated_at, extract_date, file_id, row_number, arrived_at
    from {{ ref('stg_voso__orders') }}

),

{% if is_incremental() %}
register_changed as (
    select exists (select 1 from {{ ref('stg_household_register__households') }}
                   where file_id > {{ build_watermark() }}) as yes
),

-- shops / products new or re-delivered with another commune, household, phone, shop, group or type
moved_shops as (
    select distinct platform, shop_id from {{ ref('int_platforms__shop_versions') }}
    where file_id > {{ build_watermark() }} and first_same_file_id = file_id
),
moved_products as (
    select distinct platform, product_id from {{ ref('int_platforms__product_versions') }}
    where file_id > {{ build_watermark() }} and first_same_file_id = file_id
),

-- the files as an array: the raw tables are read by their primary key (file_id, row_number); against
-- `file_id > (subquery)` the planner assumed a third of history and read it all
new_versions as (
    select * from orders
    where file_id = any(array(select lf.file_id from {{ source('raw', 'landed_files') }} as lf
                              where lf.file_id > {{ build_watermark() }}))
),

-- each reason a stored order is recomputed, looked up by its index (one scan with the reasons OR-ed
-- read every stored order)
{%- set stored_columns -%}
    t.platform, t.order_id, t.ordered_at, t.shop_id, t.buyer_account_id, t.buyer_phone_hash, t.product_id,
    t.quantity, t.weight_t, t.amount_vnd, t.buyer_province_code, t.buyer_country_raw as buyer_country,
    t.order_status, t.updated_at, t.extract_date, t.file_id, t.row_number, t.arrived_at
{%- endset %}
current_versions as (
    select {{ stored_columns }} from {{ this }} as t
    where (select yes from register_changed)
    union
    select {{ stored_columns }} from {{ this }} as t
    join (select distinct platform, order_id from new_versions) as n on n.platform = t.platform and n.order_id = t.order_id
    union
    select {{ stored_columns }} from {{ this }} as t
    join moved_shops as s on s.platform = t.platform and s.shop_id = t.shop_id
    union
    select {{ stored_columns }} from {{ this }} as t
    join moved_products as p on p.platform = t.platform and p.product_id = t.product_id
),

candidates as (
    select * from new_versions
    union all
    select * from current_versions
),
{% else %}
candidates as (select * from orders),
{% endif %}

latest as (

    select distinct on (platform, order_id) *
    from candidates
    order by platform, order_id, updated_at desc nulls last, extract_date desc, {{ latest_delivery_first() }}

),

shops as (select * from {{ ref('int_platforms__shops') }}),
products as (select platform, product_id, product_group, product_type from {{ ref('int_platforms__products') }}),
provinces as (select * from {{ ref('int_geography__provinces') }}),
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
    latest.buyer_country                                        as buyer_country_raw,
    shops.household_code                                        as seller_household_code,
    shops.unit_map_version,
    shops.unit_code,
    shops.province_code,
    shops.current_province_code,
    shops.region_code,
    -- the version kept (ordering columns of the latest version, for the next incremental merge)
    latest.buyer_phone_hash,
    latest.extract_date,
    latest.file_id,
    latest.row_number,
    latest.arrived_at
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
