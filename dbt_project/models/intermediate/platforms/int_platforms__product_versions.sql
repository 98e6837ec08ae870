{{ config(materialized='view') }}  {#- a view: its readers take only the versions of new files -#}
{#- Every delivered version of a product (one row per extract row) with the first landed file
    holding the same attribution and type (shop, product group, product type):
    first_same_file_id = file_id marks a product that is new, moved or re-typed in that file. A
    window, not a correlated lookup. Read by the change driver and by int_platforms__orders. -#}
with

products as (
    select * from {{ ref('stg_postmart__products') }}
    union all
    select * from {{ ref('stg_voso__products') }}
)

select
    platform,
    product_id,
    file_id,
    extract_date,
    listed_at,
    min(file_id) over (partition by platform, product_id, shop_id, product_group, product_type)
        as first_same_file_id
from products
