{{ config(materialized='view') }}  {#- a view: the incremental models read only their window of it -#}
{#- Flow indicators: amounts per order, counted on the local order date, from SUCCESSFUL orders in
    their latest status, agricultural products only (orders of inputs are IV.4). Weight is in tonnes
    (postmart kg / 1000, voso g / 1e6, typed in staging). `_hh_orders` (orders of household shops)
    feeds the ratio orders_per_hh_month. Not materialized: a reader's date window reaches the orders'
    date index in each branch (materialized, every order of history was read, then filtered). -#}
with orders as not materialized (

    select * from {{ ref('int_platforms__orders') }}
    where is_successful and coalesce(product_group, 'agricultural') <> 'input'

)

select 'volume_sold_t' as indicator_code, platform, ordered_date as event_date, weight_t as amount,
       unit_map_version, unit_code, province_code, current_province_code, region_code
from orders
union all
select 'orders', platform, ordered_date, 1::numeric,
       unit_map_version, unit_code, province_code, current_province_code, region_code
from orders
union all
select 'gmv_vnd', platform, ordered_date, amount_vnd,
       unit_map_version, unit_code, province_code, current_province_code, region_code
from orders
union all
select '_hh_orders', platform, ordered_date, 1::numeric,
       unit_map_version, unit_code, province_code, current_province_code, region_code
from orders
where seller_household_code is not null
