{#- Every date at which a running level is needed: each period's end, the day before its start
    (= the previous period's end) and 31 December of the previous year (for year-to-date flows). -#}
with periods as (select * from {{ ref('int_calendar__periods') }})

select distinct as_of_date
from periods
cross join lateral (values
    (period_end),
    (period_start - 1),
    (make_date(extract(year from period_end)::int - 1, 12, 31))
) as d(as_of_date)
