-- The monthly per-product-type statistics add up to the month's flow indicators of the same scope
-- (agricultural products; orders of inputs are not in 'orders' / 'volume_sold_t' / 'gmv_vnd').
with types as (
    select month_key, scope_level, scope_code, platform,
           sum(orders) as orders, sum(volume_t) as volume_t, sum(revenue_vnd) as revenue_vnd
    from {{ ref('fct_product_type_monthly') }}
    where product_group <> 'input'
    group by 1, 2, 3, 4
),
facts as (
    select period_key as month_key, scope_level, scope_code, platform,
           max(value_in_period) filter (where indicator_code = 'orders')        as orders,
           max(value_in_period) filter (where indicator_code = 'volume_sold_t') as volume_t,
           max(value_in_period) filter (where indicator_code = 'gmv_vnd')       as revenue_vnd
    from {{ ref('fct_indicator_values') }}
    where period_type = 'month' and map_version = 'post2025' and scope_level in ('province', 'region', 'nation')
      and indicator_code in ('orders', 'volume_sold_t', 'gmv_vnd')
    group by 1, 2, 3, 4
)
select t.*, f.orders as fact_orders, f.volume_t as fact_volume_t, f.revenue_vnd as fact_revenue_vnd
from types as t
left join facts as f using (month_key, scope_level, scope_code, platform)
where f.orders is distinct from t.orders
   or abs(coalesce(f.volume_t, 0) - t.volume_t) > 1e-9
   or abs(coalesce(f.revenue_vnd, 0) - t.revenue_vnd) > 1e-6
