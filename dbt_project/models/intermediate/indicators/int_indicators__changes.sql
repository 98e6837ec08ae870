{#- The change driver of the incremental models (macros/incremental.sql): one row per landed file
    after the oldest watermark of the incremental models, with the earliest local date its rows can
    change, and the newest landed file (whose id the models record as their watermark).
      orders, activities, posts: the date of the row (an order whose status changes later, e.g.
        delivered -> returned, repeats its order date: the week it was ordered is revised);
      shops, products: the extract date (a flag seen later), the creation / listing date when the
        row is new or changes what the row is attributed to or counted as;
      household registers: -infinity (a snapshot re-attributes households over all periods);
      weekly forms: nothing (they feed fct_reported_values, not the platform indicators).
    orders_from: an orders file's earliest local order date, null for other files (the order test
    assert_latest_order_version_only looks for versions in the extracts from that date on).
    It also counts, per new file, the order and activity rows the models cannot use: a status or
    activity type outside the codes, no order or account id. Its data tests fail the build on them
    (the rows of the files this build takes in, in the snapshot that fixes the newest file), where
    tests on the staging views read every row of history before every build (10 s with 26 national
    weeks). -#}
with

marks as (

    select coalesce(min(coalesce(f.file_id, 0)), 0) as since_file_id
    from (values {% for m in incremental_consumers() %}('{{ m }}'){{ "," if not loop.last }}{% endfor %}) as c (model)
    left join {{ source('ops', 'build_watermarks') }} as w on w.model = c.model
    left join {{ source('raw', 'landed_files') }} as f on f.file_id = w.upto_file_id and f.sha256 is not distinct from w.upto_sha256

),

-- the shop / product versions of the new files; an earlier one with the same attribution exists
-- when first_same_file_id is older
new_shops as (
    select * from {{ ref('int_platforms__shop_versions') }}
    where file_id > (select since_file_id from marks)
),
new_products as (
    select * from {{ ref('int_platforms__product_versions') }}
    where file_id > (select since_file_id from marks)
),

changes as (

    select file_id, min({{ local_date('ordered_at') }}) as changed_from,
           count(*) filter (where order_status not in ({{ label_codes(order_status_labels()) }})) as unknown_codes,
           count(*) filter (where order_id is null) as missing_ids,
           min({{ local_date('ordered_at') }}) as orders_from
    from (select file_id, ordered_at, order_status, order_id from {{ ref('stg_postmart__orders') }}
          union all select file_id, ordered_at, order_status, order_id from {{ ref('stg_voso__orders') }}) as o
    where file_id > (select since_file_id from marks)
    group by file_id

    union all
    select file_id, min({{ local_date('occurred_at') }}),
           count(*) filter (where activity_type not in ({{ label_codes(activity_type_labels()) }})),
           count(*) filter (where account_id is null), null::date
    from (select file_id, occurred_at, activity_type, account_id from {{ ref('stg_postmart__activities') }}
          union all select file_id, occurred_at, activity_type, account_id from {{ ref('stg_voso__activities') }}) as a
    where file_id > (select since_file_id from marks)
    group by file_id

    union all
    select file_id, min({{ local_date('posted_at') }}), 0, 0, null::date
    from (select file_id, posted_at from {{ ref('stg_postmart__info_posts') }}
          union all select file_id, posted_at from {{ ref('stg_voso__info_posts') }}) as p
    where file_id > (select since_file_id from marks)
    group by file_id

    -- a shop row: its e-wallet may be first seen on the extract date; a new shop, or one whose
    -- commune / household / phone differs from an earlier version, changes from its creation
    union all
    select n.file_id,
           min(case when n.first_same_file_id < n.file_id then n.extract_date
                    else least(n.extract_date, {{ local_date('n.created_at') }}) end), 0, 0, null::date
    from new_shops as n
    group by n.file_id

    -- a product row: flags seen on the extract date; new or re-typed / moved products from listing
    union all
    select n.file_id,
           min(case when n.first_same_file_id < n.file_id then n.extract_date
                    else least(n.extract_date, {{ local_date('n.listed_at') }}) end), 0, 0, null::date
    from new_products as n
    group by n.file_id

    union all
    select distinct file_id, '-infinity'::date, 0, 0, null::date
    from {{ ref('stg_household_register__households') }}
    where file_id > (select since_file_id from marks)

    -- the newest landed file: the watermark the models record
    union all
    select max(file_id), null::date, 0, 0, null::date from {{ source('raw', 'landed_files') }}

)

select file_id, min(changed_from) as changed_from,
       sum(unknown_codes)::bigint as rows_with_unknown_code, sum(missing_ids)::bigint as rows_without_id,
       min(orders_from) as orders_from
from changes
where file_id is not null
group by file_id
