{{ config(materialized='view') }}  {#- a view: its readers take only the versions of new files -#}
{#- Every delivered version of a shop (one row per extract row) with the first landed file holding
    the same attribution (commune, household, owner phone): first_same_file_id = file_id marks a
    shop that is new or moved in that file. A window, not a correlated lookup: national extracts hold
    hundreds of thousands of shops. Read by the change driver and by int_platforms__orders. -#}
with

shops as (
    select * from {{ ref('stg_postmart__shops') }}
    union all
    select * from {{ ref('stg_voso__shops') }}
)

select
    platform,
    shop_id,
    file_id,
    extract_date,
    created_at,
    min(file_id) over (partition by platform, shop_id, commune_code, household_code, owner_phone_hash)
        as first_same_file_id
from shops
