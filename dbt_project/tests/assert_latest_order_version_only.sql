-- int_platforms__orders holds exactly the latest version of each order: no order whose newest
-- delivered version (by updated_at, extract date, then the latest delivery: macros/staging.sql) has a
-- different status than the one kept.
with versions as (
    select platform, order_id, order_status, updated_at, extract_date, arrived_at, file_id, row_number
    from {{ ref('stg_postmart__orders') }}
    union all
    select platform, order_id, order_status, updated_at, extract_date, arrived_at, file_id, row_number
    from {{ ref('stg_voso__orders') }}
),
newest as (
    select distinct on (platform, order_id) platform, order_id, order_status
    from versions
    order by platform, order_id, updated_at desc nulls last, extract_date desc, {{ latest_delivery_first() }}
)
select n.*
from newest as n
join {{ ref('int_platforms__orders') }} as o using (platform, order_id)
where o.order_status <> n.order_status
