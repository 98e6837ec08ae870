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
-- an order's versions are all in extracts dated on or after its order date (a day of margin for the
-- time zone): only those files are read, not every version of history. The change driver already
-- holds each new orders file's earliest local order date: the new versions are not parsed for it.
candidate_files as (
    select f.file_id from {{ source('raw', 'landed_files') }} as f
    where f.source in ('postmart', 'voso')
      and (f.file_date >= coalesce((select min(chg.orders_from) - 1 from {{ ref('int_indicators__changes') }} as chg),
                                   '-infinity'::date)
           or f.file_date is null
           or f.file_id in (select file_id from changed_files))
),
-- every candidate file new (a first build, a raw reset): all their orders changed, nothing to look
-- up; else only the orders of the new files. Two branches, each behind a one-time filter checked
-- before any row is read (OR-ed into one condition, the lookup was planned as a subplan per row)
all_new as (
    select not exists (select 1 from candidate_files as c
                       where c.file_id not in (select file_id from changed_files)) as yes
),
checked as (
    select v.* from ({{ order_versions('candidate_files') }}) as v
    where (select yes from all_new)
    union all
    select v.* from ({{ order_versions('candidate_files') }}) as v
    where not (select yes from all_new)
      and (v.platform, v.order_id) in (select c.platform, c.order_id
                                       from ({{ order_versions('changed_files') }}) as c)
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
