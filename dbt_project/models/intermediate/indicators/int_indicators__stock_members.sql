{{ config(materialized='view') }}  {#- a view: the incremental models read only their window of it -#}
{#- Stock indicators as "members": each distinct thing counted (a household, a product, a buyer
    province, a country, an information category) with the day it joined the stock and where it is
    attributed. The level at a date is the number of distinct members joined by then, per scope. -#}
with

-- not materialized: a reader's date window reaches each branch's table and its date index (a CTE read
-- by several branches is otherwise materialized whole: every order of history, then filtered)
shops as not materialized (select * from {{ ref('int_platforms__shops') }}),
products as not materialized (select * from {{ ref('int_platforms__products') }}),
orders as not materialized (select * from {{ ref('int_platforms__orders') }}),
posts as not materialized (select * from {{ ref('int_platforms__info_posts') }}),
activities as not materialized (select * from {{ ref('int_platforms__activities') }}),
households as not materialized (select * from {{ ref('int_households__latest') }}),

members as (

    -- I. OCOP products (>= 3 stars) listed
    select 'ocop_listed' as indicator_code, platform, platform || ':' || product_id as member_key,
           ocop3_since as event_date, unit_map_version, unit_code, province_code, current_province_code, region_code
    from products where product_group = 'agricultural' and ocop3_since is not null

    -- II.3 households with a shop (a household on both platforms is one member in 'all')
    union all
    select 'hh_with_shop', platform, household_code, created_date,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from shops where is_sxnn_household

    -- II.4 households with an e-wallet on a shop
    union all
    select 'hh_with_epay', platform, household_code, epay_since,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from shops where is_sxnn_household and epay_since is not null

    -- III.1 "Số/loại sản phẩm": distinct TYPES of agricultural products promoted (listed), so that
    -- the target (% of the province's main agricultural products) is comparable; the type is the
    -- member, so a type sold on both platforms counts once in 'all'. The number of products listed
    -- stays visible as the helper series _products_listed (fct_indicator_values.detail_value, notes).
    union all
    select 'products_promoted', platform, lower(normalize(trim(product_type), NFC)), listed_date,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from products where product_group = 'agricultural' and listed_date is not null
                    and nullif(trim(product_type), '') is not null
    union all
    select '_products_listed', platform, platform || ':' || product_id, listed_date,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from products where product_group = 'agricultural' and listed_date is not null

    -- III.3 agricultural products with a brand mark
    union all
    select 'products_branded', platform, platform || ':' || product_id, branded_since,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from products where product_group = 'agricultural' and branded_since is not null

    -- III.4 households with a brand-marked product
    union all
    select 'hh_branded', platform, household_code, branded_since,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from products where is_sxnn_household and product_group = 'agricultural' and branded_since is not null

    -- III.5 agricultural products with traceability
    union all
    select 'traceable', platform, platform || ':' || product_id, traceable_since,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from products where product_group = 'agricultural' and traceable_since is not null

    -- III.6 domestic markets: distinct buyer provinces (today's boundaries) of successful orders
    union all
    select 'domestic_markets', platform, buyer_current_province_code, ordered_date,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from orders
    where is_successful and buyer_country = 'VN' and buyer_current_province_code is not null

    -- III.7 foreign markets: distinct buyer countries of successful orders
    union all
    select 'foreign_markets', platform, buyer_country, ordered_date,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from orders
    where is_successful and buyer_country <> 'VN'

    -- IV.1 information categories provided (province-level posts: no unit scope)
    union all
    select 'info_items', platform, category, posted_date,
           unit_map_version, null, province_code, current_province_code, region_code
    from posts where category is not null

    -- IV.3 production inputs listed
    union all
    select 'inputs_listed', platform, platform || ':' || product_id, listed_date,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from products where product_group = 'input' and listed_date is not null

    -- IV.4 households that ordered inputs (buyer linked to a household by phone; attributed to the
    -- household's unit); placing the order counts, whatever became of it
    union all
    select 'hh_bought_inputs', o.platform, o.buyer_household_code, o.ordered_date,
           h.map_version, h.unit_code, h.province_code, h.current_province_code, h.region_code
    from orders as o
    join households as h on h.household_code = o.buyer_household_code
    where o.product_group = 'input'

    -- IV.5 inputs with a household discount
    union all
    select 'inputs_discounted', platform, platform || ':' || product_id, discount_since,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from products where product_group = 'input' and discount_since is not null

    -- N.1 year to date: distinct accounts active since 1 January (member = account and year)
    union all
    select 'active_accounts', platform,
           platform || ':' || account_id || '@' || extract(year from activity_date)::int, activity_date,
           unit_map_version, unit_code, province_code, current_province_code, region_code
    from activities

)

select * from members where event_date is not null
