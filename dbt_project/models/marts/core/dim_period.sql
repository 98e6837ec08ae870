with periods as (select * from {{ ref('int_calendar__periods') }})

select
    period_type::text              as period_type,
    period_key::text               as period_key,
    period_start::date             as period_start,
    period_end::date               as period_end,
    year::integer                  as year,
    previous_period_key::text      as previous_period_key,
    deadline_at::timestamptz       as deadline_at,
    (period_end < date '{{ var("reform_date") }}')::boolean as is_pre_reform,
    case when period_end < date '{{ var("reform_date") }}' then 'pre2025' else 'post2025' end::text as map_version_in_force
from periods
