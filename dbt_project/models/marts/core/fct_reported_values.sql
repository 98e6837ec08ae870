{{ config(
    pre_hook=["{{ delete_resent_forms() }}"],
    post_hook=["{{ create_index('week_key', 'week') }}",
               "{{ create_index('map_version, unit_code, week_key, indicator_code', 'key', unique=true) }}"]
) }}  {#- the quality gate reads one week; the pre-hook deletes by unit and week (the key's first columns) #}
{#- What the weekly forms said: the latest accepted form per reporting unit and week (latest
    received_at, then file_id; earlier resends stay in raw), one row per indicator row.
    Incremental: a unit's week changes only when a form for it lands; its rows are deleted (pre-hook)
    and chosen again among all its forms. No valid watermark (raw reset, a withdrawal): all again. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: record_build_watermark() #}
with

forms as (
    select * from {{ ref('stg_weekly_forms__forms') }}
    {% if is_incremental() %}
    where (map_version, unit_code, week_key) in {{ resent_unit_weeks() }}
    {% endif %}
),
form_rows as (select * from {{ ref('stg_weekly_forms__form_rows') }}),
units as (select * from {{ ref('int_geography__reporting_units') }}),
indicators as (select * from {{ ref('ref_indicators') }}),

ranked as (

    select
        forms.*,
        row_number() over (partition by map_version, unit_code, week_key
                           order by received_at desc, file_id desc) as version_desc,
        count(*) over (partition by map_version, unit_code, week_key)   as versions_received,
        min(received_at) over (partition by map_version, unit_code, week_key) as first_received_at
    from forms

),

latest as (

    select
        ranked.*,
        {{ period_deadline_sql("'week'", 'week_end') }} as deadline_at
    from ranked
    where version_desc = 1

)

select
    latest.week_key::text                      as week_key,
    latest.week_start::date                    as week_start,
    latest.week_end::date                      as week_end,
    latest.map_version::text                   as map_version,
    latest.unit_code::text                     as unit_code,
    latest.unit_name::text                     as unit_name,
    units.province_code::text                  as province_code,
    units.current_province_code::text          as current_province_code,
    units.region_code::text                    as region_code,
    r.indicator_code::text                     as indicator_code,
    i.section::text                            as section,
    i.tt::text                                 as tt,
    i.sort_order::integer                      as sort_order,
    r.label::text                              as label,
    r.unit_label::text                         as unit_label,
    r.value_in_week::numeric                   as value_in_week,
    r.growth_pct::numeric                      as growth_pct,
    r.cumulative_value::numeric                as cumulative_value,
    r.completion_pct::numeric                  as completion_pct,
    r.notes::text                              as notes,
    latest.file_id::bigint                     as file_id,
    latest.received_at::timestamptz            as received_at,
    latest.first_received_at::timestamptz      as first_received_at,
    latest.deadline_at::timestamptz            as deadline_at,
    (latest.received_at > latest.deadline_at)::boolean as is_late,
    latest.versions_received::integer          as versions_received
from latest
join form_rows as r on r.file_id = latest.file_id
left join units on units.map_version = latest.map_version and units.unit_code = latest.unit_code
left join indicators as i on i.indicator_code = r.indicator_code
