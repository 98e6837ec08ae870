{{ config(post_hook=["{{ create_index('week_key', 'week') }}"]) }}  {#- the quality gate reads one week #}
{#- Completeness and timeliness of the weekly forms: one row per ISO week x EXPECTED reporting unit.

    Expected units = the reporting units (ref_admin_units.is_reporting_unit) of the map in force on
    the week's Monday (pre2025 districts before 2025-07-01, post2025 communes from then on), valid
    during the week, of ALL provinces of that map (var completeness_provinces = 'all', the default:
    a province that sent nothing shows up as missing, never silently as zero) or, with
    completeness_provinces = 'active', only of the provinces that sent at least one accepted form on
    that map. Weeks: from the first week any form was received to the last week of the data.

    Timeliness: deadline = Thursday 14:00 Asia/Ho_Chi_Minh after the week. A unit is
    * on_time  when its FIRST accepted form arrived by the deadline,
    * late     when it had no form by the deadline but sent one afterwards,
    * missing  when no accepted form arrived (yet).
    A unit that reported on time and resent a corrected form after the deadline stays on time
    (is_corrected_after_deadline = true): the report was there at the deadline. The latest accepted
    form wins for the values (fct_reported_values); resend_count = versions - 1.

    Completeness per cell: expected_rows = the rows of the weekly form (ref_indicators.in_weekly_form)
    every expected unit owes; reported_rows = those the winning form filled (a value in the week or a
    cumulative value); a missing unit reported 0 of them. -#}
with

weeks as (

    select period_key as week_key, period_start as week_start, period_end as week_end, deadline_at,
           case when period_start < date '{{ var("reform_date") }}' then 'pre2025' else 'post2025' end as map_version
    from {{ ref('int_calendar__periods') }}
    where period_type = 'week'
      and period_start >= (select coalesce(min(week_start), date '9999-12-31')
                           from {{ ref('stg_weekly_forms__forms') }})

),

deliveries as (select * from {{ ref('int_quality__form_deliveries') }}),
units as (select * from {{ ref('ref_admin_units') }} where is_reporting_unit),
geo as (select * from {{ ref('int_geography__reporting_units') }}),
provinces as (select * from {{ ref('ref_provinces') }}),
form_indicators as (select indicator_code from {{ ref('ref_indicators') }} where in_weekly_form),

-- the filled rows of each unit-week's winning form (distinct rows first, then counted: hashed, where
-- count(distinct) sorted every form row of history)
reported_rows as (

    select map_version, unit_code, week_key, count(*) as reported_rows
    from (
        select distinct d.map_version, d.unit_code, d.week_key, r.indicator_code
        from deliveries as d
        join {{ ref('stg_weekly_forms__form_rows') }} as r on r.file_id = d.latest_file_id
        join form_indicators as i on i.indicator_code = r.indicator_code
        where r.value_in_week is not null or r.cumulative_value is not null
    ) as filled
    group by 1, 2, 3

),

active_provinces as (

    select distinct d.map_version, g.province_code
    from deliveries as d
    join geo as g on g.map_version = d.map_version and g.unit_code = d.unit_code

),

expected as (

    select w.*, u.unit_code, u.unit_name, u.province_code
    from weeks as w
    join units as u
        on u.map_version = w.map_version
       and coalesce(u.valid_from, date '1900-01-01') <= w.week_end
       and coalesce(u.valid_to, date '9999-12-31') >= w.week_start
    {% if var('completeness_provinces', 'all') == 'active' %}
    join active_provinces as a on a.map_version = u.map_version and a.province_code = u.province_code
    {% endif %}

)

select
    e.week_key::text                                                   as week_key,
    e.week_start::date                                                 as week_start,
    e.week_end::date                                                   as week_end,
    e.deadline_at::timestamptz                                         as deadline_at,
    e.map_version::text                                                as map_version,
    e.unit_code::text                                                  as unit_code,
    e.unit_name::text                                                  as unit_name,
    e.province_code::text                                              as province_code,
    p_own.province_name::text                                          as province_name,
    g.current_province_code::text                                      as current_province_code,
    p_cur.province_name::text                                          as current_province_name,
    g.region_code::text                                                as region_code,
    p_cur.region_name::text                                            as region_name,
    ('province-' || g.current_province_code)::text                     as scope_key,
    (case when d.unit_code is null then 'missing'
          when d.first_received_at <= e.deadline_at then 'on_time'
          else 'late' end)::text                                       as reporting_status,
    (d.unit_code is not null)::boolean                                 as is_received,
    coalesce(d.first_received_at <= e.deadline_at, false)::boolean     as is_on_time,
    coalesce(d.first_received_at > e.deadline_at, false)::boolean      as is_late,
    (d.unit_code is null)::boolean                                     as is_missing,
    d.first_received_at::timestamptz                                   as first_received_at,
    d.last_received_at::timestamptz                                    as last_received_at,
    case when d.first_received_at > e.deadline_at
         then round((extract(epoch from d.first_received_at - e.deadline_at) / 3600.0)::numeric, 1)
    end::numeric                                                       as hours_late,
    coalesce(d.forms_received, 0)::integer                             as forms_received,
    greatest(coalesce(d.forms_received, 0) - 1, 0)::integer            as resend_count,
    coalesce(d.first_received_at <= e.deadline_at and d.last_received_at > e.deadline_at,
             false)::boolean                                           as is_corrected_after_deadline,
    d.latest_file_id::bigint                                           as latest_file_id,
    coalesce(d.winning_forms, 0)::integer                              as winning_forms,
    (select count(*) from form_indicators)::integer                    as expected_rows,
    coalesce(rr.reported_rows, 0)::integer                             as reported_rows
from expected as e
left join deliveries as d
    on d.map_version = e.map_version and d.unit_code = e.unit_code and d.week_key = e.week_key
left join reported_rows as rr
    on rr.map_version = e.map_version and rr.unit_code = e.unit_code and rr.week_key = e.week_key
left join geo as g on g.map_version = e.map_version and g.unit_code = e.unit_code
left join provinces as p_own on p_own.map_version = e.map_version and p_own.province_code = e.province_code
left join provinces as p_cur on p_cur.map_version = 'post2025' and p_cur.province_code = g.current_province_code
-- one week's rows together on disk (why: fct_quality_checks)
order by week_key
