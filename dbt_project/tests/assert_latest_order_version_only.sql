-- int_platforms__orders holds exactly the latest version of each order: no order whose newest
-- delivered version (by updated_at, extract date, then the latest delivery: macros/staging.sql) has a
-- different status than the one kept. Only the orders of the files landed since the last build can
-- have moved (int_indicators__changes: all files after a raw reset), and their versions are looked for
-- only in the extracts dated from their order dates on; a full refresh checks every order.
-- depends_on: {{ ref('int_indicators__changes') }}
with
{% if flags.FULL_REFRESH %}
checked as ({{ order_versions() }}
),
{% else %}
changed_files as (select file_id from {{ ref('int_indicators__changes') }}),
changed as materialized (
    select platform, order_id, ordered_at from ({{ order_versions('changed_files') }}) as c
),
-- an order's versions are all in extracts dated on or after its order date (a day of margin for the
-- time zone): only those files are read, not every version of the history
candidate_files as (
    select f.file_id from {{ source('raw', 'landed_files') }} as f
    where f.source in ('postmart', 'voso')
      and (f.file_date >= coalesce((select min(ordered_at)::date - 1 from changed), '-infinity'::date)
           or f.file_date is null
           or f.file_id in (select file_id from changed_files))
),
checked as (
    select v.* from ({{ order_versions('candidate_files') }}) as v
    where (v.platform, v.order_id) in (select platform, order_id from changed)
),
{% endif %}
newest as (
    select distinct on (platform, order_id) platform, order_id, order_status
    from checked
    order by platform, order_id, updated_at desc nulls last, extract_date desc, {{ latest_delivery_first() }}
)
select n.*
from newest as n
join {{ ref('int_platforms__orders') }} as o using (platform, order_id)
where o.order_status <> n.order_status
