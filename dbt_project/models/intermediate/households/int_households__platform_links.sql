{#- Per household: when it first had a shop, first ordered (as a buyer), and first sold
    successfully on or after its first training (for the conversion ratios). -#}
with

households as (select * from {{ ref('int_households__latest') }}),
shops as (select * from {{ ref('int_platforms__shops') }}),
-- not materialized: each reader takes only the columns and orders it needs (a CTE read twice is
-- otherwise written out whole, every column of every order of history)
orders as not materialized (select * from {{ ref('int_platforms__orders') }}),

first_shop as (

    select household_code, min(created_date) as first_shop_date
    from shops where household_code is not null
    group by household_code

),

first_purchase as (

    select buyer_household_code as household_code, min(ordered_date) as first_purchase_date
    from orders where buyer_household_code is not null and order_status <> 'cancelled'
    group by buyer_household_code

),

first_sale_after_training as (

    select h.household_code, min(o.ordered_date) as first_sale_after_training_date
    from households as h
    join orders as o on o.seller_household_code = h.household_code
    where o.is_successful
      and o.ordered_date >= least(h.trained_digital_on, h.trained_logistics_on)
    group by h.household_code

)

select
    h.household_code,
    s.first_shop_date,
    p.first_purchase_date,
    t.first_sale_after_training_date
from households as h
left join first_shop as s using (household_code)
left join first_purchase as p using (household_code)
left join first_sale_after_training as t using (household_code)
