{#- One row per product of either platform: latest attributes, the day each flag (OCOP >= 3 stars,
    traceability, brand mark, household discount) was first seen, and the seller shop's attribution. -#}
with

products as (

    select * from {{ ref('stg_postmart__products') }}
    union all
    select * from {{ ref('stg_voso__products') }}

),

versions as (

    select
        *,
        {{ local_date('listed_at') }} as listed_date_v,
        row_number() over (partition by platform, product_id
                           order by extract_date desc, {{ latest_delivery_first() }}) as version_desc,
        row_number() over (partition by platform, product_id
                           order by extract_date, {{ latest_delivery_first(direction='asc') }}) as version_asc
    from products

),

flags as (

    select
        platform,
        product_id,
        min(listed_date_v) as listed_date,
        {% for flag, cond in [('ocop3', 'ocop_stars >= 3'), ('traceable', 'is_traceable'),
                              ('branded', 'is_brand_marked'), ('discount', 'has_household_discount')] %}
        min(case when {{ cond }} then case when version_asc = 1 then listed_date_v else extract_date end end)
            as {{ flag }}_seen_on{{ "," if not loop.last }}
        {% endfor %}
    from versions
    group by platform, product_id

),

latest as (select * from versions where version_desc = 1),
shops as (select * from {{ ref('int_platforms__shops') }})

select
    latest.platform,
    latest.product_id,
    latest.shop_id,
    latest.product_name,
    latest.product_group,
    latest.product_type,
    latest.ocop_stars,
    latest.is_traceable,
    latest.is_brand_marked,
    latest.has_household_discount,
    flags.listed_date,
    case when flags.ocop3_seen_on is not null then greatest(flags.ocop3_seen_on, flags.listed_date) end as ocop3_since,
    case when flags.traceable_seen_on is not null then greatest(flags.traceable_seen_on, flags.listed_date) end as traceable_since,
    case when flags.branded_seen_on is not null then greatest(flags.branded_seen_on, flags.listed_date) end as branded_since,
    case when flags.discount_seen_on is not null then greatest(flags.discount_seen_on, flags.listed_date) end as discount_since,
    shops.household_code,
    shops.is_sxnn_household,
    shops.unit_map_version,
    shops.unit_code,
    shops.province_code,
    shops.current_province_code,
    shops.region_code
from latest
join flags using (platform, product_id)
left join shops on shops.platform = latest.platform and shops.shop_id = latest.shop_id
