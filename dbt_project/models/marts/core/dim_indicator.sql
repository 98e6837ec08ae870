with indicators as (select * from {{ ref('ref_indicators') }})

select
    indicator_code::text        as indicator_code,
    section::text               as section,
    tt::text                    as tt,
    sort_order::integer         as sort_order,
    label_vi::text              as label_vi,
    label_en::text              as label_en,
    unit_vi::text               as unit_vi,
    kind::text                  as kind,
    primary_source::text        as primary_source,
    nullif(target_basis, '')::text as target_basis,
    nullif(base_code, '')::text as base_code,
    in_weekly_form::boolean     as in_weekly_form,
    base_vi::text               as base_vi,
    base_en::text               as base_en,
    base_source::text           as base_source,
    (kind = 'flow')::boolean    as platforms_additive
from indicators
