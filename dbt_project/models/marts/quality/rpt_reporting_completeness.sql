{#- incremental unless completeness_provinces = 'active': there a province's first form makes it
    expected in every earlier week too -#}
{{ config(
    materialized=('incremental' if var('completeness_provinces', 'all') == 'all' else 'table'),
    pre_hook=["{{ delete_changed_weeks() }}"],
    post_hook=["{{ create_index('week_key', 'week') }}"]
) }}
{#- Reporting completeness rates per ISO week for every province (today's boundaries), region and
    the nation: expected / received / on time / late / missing units, their shares (% of expected),
    resends, the missing and late units as text lists ("code name" joined by "; "), and per cell: the
    form rows filled out of those owed by the expected units (reported_rows / expected_rows), with the
    units that sent a form but left rows blank ("code name (filled/owed)").
    Incremental: a week's status changes only when forms for it land, or when it is new (its data
    lands): the weeks of changed_weeks() are aggregated again. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
-- depends_on: {{ ref('stg_weekly_forms__forms') }}  {# changed_weeks() reads the newly landed forms #}
-- depends_on: {{ ref('int_calendar__periods') }}  {# changed_weeks() reads the periods #}
with

units as (
    select * from {{ ref('fct_reporting_completeness') }}
    {% if is_incremental() %} where week_key = any({{ changed_weeks() }}) {% endif %}
),

scoped as (

    select 'province'::text as scope_level, current_province_code as scope_code, current_province_name as scope_name, units.*
    from units
    union all
    select 'region', region_code, region_name, units.* from units
    union all
    select 'nation', '{{ var("nation_code") }}', 'Toàn quốc', units.* from units

),

agg as (

    select
        week_key, week_start, week_end, deadline_at, scope_level, scope_code,
        min(scope_name)                                              as scope_name,
        count(*)                                                     as expected_units,
        count(*) filter (where is_received)                          as received_units,
        count(*) filter (where is_on_time)                           as on_time_units,
        count(*) filter (where is_late)                              as late_units,
        count(*) filter (where is_missing)                           as missing_units,
        coalesce(sum(resend_count), 0)                               as resend_count,
        count(*) filter (where is_corrected_after_deadline)          as corrected_after_deadline_units,
        count(distinct current_province_code)                        as provinces_expected,
        count(distinct current_province_code) filter (where is_received) as provinces_reporting,
        string_agg(unit_code || ' ' || unit_name, '; ' order by unit_code) filter (where is_missing) as missing_unit_list,
        string_agg(unit_code || ' ' || unit_name, '; ' order by unit_code) filter (where is_late)    as late_unit_list,
        sum(expected_rows)                                           as expected_rows,
        sum(reported_rows)                                           as reported_rows,
        string_agg(unit_code || ' ' || unit_name || ' (' || reported_rows || '/' || expected_rows || ')', '; '
                   order by unit_code) filter (where is_received and reported_rows < expected_rows) as incomplete_unit_list
    from scoped
    group by week_key, week_start, week_end, deadline_at, scope_level, scope_code

)

select
    week_key::text                       as week_key,
    week_start::date                     as week_start,
    week_end::date                       as week_end,
    deadline_at::timestamptz             as deadline_at,
    scope_level::text                    as scope_level,
    scope_code::text                     as scope_code,
    (scope_level || '-' || scope_code)::text as scope_key,
    scope_name::text                     as scope_name,
    expected_units::integer              as expected_units,
    received_units::integer              as received_units,
    on_time_units::integer               as on_time_units,
    late_units::integer                  as late_units,
    missing_units::integer               as missing_units,
    round(100.0 * received_units / nullif(expected_units, 0), 1)::numeric as received_pct,
    round(100.0 * on_time_units / nullif(expected_units, 0), 1)::numeric  as on_time_pct,
    round(100.0 * late_units / nullif(expected_units, 0), 1)::numeric     as late_pct,
    round(100.0 * missing_units / nullif(expected_units, 0), 1)::numeric  as missing_pct,
    resend_count::integer                as resend_count,
    corrected_after_deadline_units::integer as corrected_after_deadline_units,
    provinces_expected::integer          as provinces_expected,
    provinces_reporting::integer         as provinces_reporting,
    missing_unit_list::text              as missing_unit_list,
    late_unit_list::text                 as late_unit_list,
    expected_rows::integer               as expected_rows,
    reported_rows::integer               as reported_rows,
    round(100.0 * reported_rows / nullif(expected_rows, 0), 1)::numeric as reported_rows_pct,
    incomplete_unit_list::text           as incomplete_unit_list
from agg
-- one week's rows together on disk (why: fct_quality_checks)
order by week_key
