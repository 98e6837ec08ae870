{#- Reporting periods (ISO week, month, half-year, year) covering the data's date range, all in
    local time (Asia/Ho_Chi_Minh). Deadlines: macros/calendar.sql period_deadline_sql() (week ->
    Thursday 14:00 of the next week; month -> end of the 3rd day of the next month; half-year -> end
    of 10 July / 10 January; year -> 15 December 00:00). The data's date range includes the days of
    the platform extracts delivered (raw.landed_files, raw.deliveries), so a week whose extracts
    carried no event still is a period (published with zeros; lensan.quality.policy). -#}
with

extracts as (

    select f.file_id, f.file_date
    from {{ source('raw', 'landed_files') }} as f
    where f.source in ('postmart', 'voso') and f.status = 'loaded' and f.withdrawn_at is null
      and f.file_date is not null

),

-- the first and last day of each kind of data: the platform data from the intermediate models (dates
-- parsed once there, orders and activities by their day index), not every raw row parsed again here,
-- which grew with the history (17 s at 27 national weeks)
data_dates as (

    select min(created_date) as first_day, max(created_date) as last_day from {{ ref('int_platforms__shops') }}
    union all select min(ordered_date), max(ordered_date) from {{ ref('int_platforms__orders') }}
    union all select min(activity_date), max(activity_date) from {{ ref('int_platforms__activities') }}
    union all select min(posted_date), max(posted_date) from {{ ref('int_platforms__info_posts') }}
    union all select min(listed_date), max(listed_date) from {{ ref('int_platforms__products') }}
    union all select min(week_start), max(week_end) from {{ ref('stg_weekly_forms__forms') }}
    union all select min(snapshot_date), max(snapshot_date) from {{ ref('stg_household_register__households') }}
    -- the days platform extracts were delivered for, events or not: a quiet week (extracts without a
    -- single event) is a period of the calendar, published with its stocks carried forward and flows 0
    union all select min(file_date), max(file_date) from extracts
    union all select min(d.file_date), max(d.file_date) from {{ source('raw', 'deliveries') }} as d
              join extracts as e on e.file_id = d.file_id

),

date_range as (

    select
        greatest(coalesce(min(first_day), current_date), date '{{ var("periods_from", "2021-01-01") }}') as first_day,
        greatest(coalesce(max(last_day), current_date), coalesce(min(first_day), current_date))          as last_day
    from data_dates

),

weeks as (

    select
        'week'::text                                      as period_type,
        to_char(w, 'IYYY-"W"IW')                          as period_key,
        w::date                                           as period_start,
        (w + interval '6 days')::date                     as period_end,
        to_char(w - interval '7 days', 'IYYY-"W"IW')      as previous_period_key
    from date_range,
        generate_series(date_trunc('week', first_day), date_trunc('week', last_day), interval '7 days') as w

),

months as (

    select
        'month'::text                                     as period_type,
        to_char(m, 'YYYY-MM')                             as period_key,
        m::date                                           as period_start,
        (m + interval '1 month' - interval '1 day')::date as period_end,
        to_char(m - interval '1 month', 'YYYY-MM')        as previous_period_key
    from date_range,
        generate_series(date_trunc('month', first_day), date_trunc('month', last_day), interval '1 month') as m

),

half_years as (

    select
        'half_year'::text                                 as period_type,
        to_char(h, 'YYYY') || '-H' || case when extract(month from h) = 1 then '1' else '2' end as period_key,
        h::date                                           as period_start,
        (h + interval '6 months' - interval '1 day')::date as period_end,
        to_char(h - interval '6 months', 'YYYY') || '-H'
            || case when extract(month from h) = 1 then '2' else '1' end as previous_period_key
    from date_range,
        generate_series(
            make_date(extract(year from first_day)::int, case when extract(month from first_day) <= 6 then 1 else 7 end, 1),
            date_trunc('month', last_day), interval '6 months') as h

),

years as (

    select
        'year'::text                                      as period_type,
        to_char(y, 'YYYY')                                as period_key,
        y::date                                           as period_start,
        (y + interval '1 year' - interval '1 day')::date  as period_end,
        to_char(y - interval '1 year', 'YYYY')            as previous_period_key
    from date_range,
        generate_series(date_trunc('year', first_day), date_trunc('year', last_day), interval '1 year') as y

),

unioned as (

    select * from weeks
    union all select * from months
    union all select * from half_years
    union all select * from years

)

select
    period_type,
    period_key,
    period_start,
    period_end,
    extract(year from period_end)::integer as year,
    previous_period_key,
    {{ period_deadline_sql('period_type', 'period_end') }} as deadline_at,
    case period_type when 'week' then 1 when 'month' then 2 when 'half_year' then 3 else 4 end as period_type_order
from unioned
