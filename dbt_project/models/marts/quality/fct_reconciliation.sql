{{ config(
    pre_hook=["{{ delete_changed_weeks() }}"],
    post_hook=["{{ create_index('week_key, map_version, unit_code, indicator_code', 'key', unique=true) }}"]
) }}  {#- the quality gate reads one week (the key's first column) #}
{#- Reconciliation of the weekly forms with the warehouse: per reporting unit, week and weekly-form
    indicator, the form's self-reported cumulative figure (fct_reported_values, the winning form)
    against the same indicator computed from platform / register data (fct_indicator_values, unit
    scope, platform 'all'). relative_divergence_pct = |reported - computed| / |computed| x 100.
    Divergent (severity warning), the one rule (divergence_kind):
      none_on_platforms  computed = 0 and reported > 0: the unit reports what the platforms / register
                         do not show at all (5 foreign markets against none), whatever the size;
      beyond_tolerance   computed > 0 and relative_divergence_pct > var reconciliation_threshold_pct
                         (dbt_project.yml, 10): the single tolerance for both-positive differences.
    A unit with no computed row for an indicator computed at unit level (it has no platform / register
    data at all) counts as computed 0. Not compared: cells the unit did not report (NULL) and the
    indicators without a unit-level computation (IV.1, IV.2: information posts are province-level).
    Incremental (macros/incremental.sql): the weeks ending on or after the earliest changed date and
    the weeks of newly landed forms are deleted (pre-hook) and compared again; the others are kept. -#}
{%- set threshold = var('reconciliation_threshold_pct', 10) -%}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
-- depends_on: {{ ref('int_calendar__periods') }}  {# changed_weeks() #}
-- depends_on: {{ ref('stg_weekly_forms__forms') }}  {# changed_weeks() reads the newly landed forms #}
with

reported as (
    select * from {{ ref('fct_reported_values') }}
    where cumulative_value is not null
    {% if is_incremental() %} and week_key = any({{ changed_weeks() }}) {% endif %}
),

-- not materialized: each reader's week filter reaches the period index of fct_indicator_values
unit_values as not materialized (
    select period_key, map_version, scope_code, indicator_code, cumulative_value
    from {{ ref('fct_indicator_values') }}
    where period_type = 'week' and platform = 'all' and scope_level = 'unit'
),

computed as (
    select * from unit_values
    {% if is_incremental() %} where period_key = any({{ changed_weeks() }}) {% endif %}
),

-- the indicators computed at unit level (every unit with data has them in every week, 0 where
-- nothing happened): those of the weeks compared and, in an incremental build, of the newest week.
-- Materialized once: as a subquery of computed_value it was hashed again for each use (8 times).
unit_indicators as materialized (
    select indicator_code from computed
    {% if is_incremental() %}
    union
    select indicator_code from unit_values
    where period_key = (select max(period_key) from {{ ref('fct_indicator_values') }} where period_type = 'week')
    {% endif %}
),

compared as (

    select r.*,
           case when c.cumulative_value is not null then c.cumulative_value
                when r.indicator_code in (select indicator_code from unit_indicators) then 0
           end as computed_value
    from reported as r
    left join computed as c
        on c.period_key = r.week_key and c.map_version = r.map_version and c.scope_code = r.unit_code
       and c.indicator_code = r.indicator_code

),

judged as (

    select r.*,
           case when r.computed_value = 0 and r.cumulative_value > 0 then 'none_on_platforms'
                when r.computed_value > 0
                     and 100.0 * abs(r.cumulative_value - r.computed_value) / r.computed_value > {{ threshold }}
                then 'beyond_tolerance'
           end as divergence_kind
    from compared as r

)

select
    r.week_key::text                                    as week_key,
    r.map_version::text                                 as map_version,
    r.unit_code::text                                   as unit_code,
    coalesce(u.unit_name, r.unit_name)::text            as unit_name,
    r.current_province_code::text                       as current_province_code,
    r.region_code::text                                 as region_code,
    ('province-' || r.current_province_code)::text      as scope_key,
    r.indicator_code::text                              as indicator_code,
    r.cumulative_value::numeric                         as reported_value,
    r.computed_value::numeric                           as computed_value,
    (r.cumulative_value - r.computed_value)::numeric    as difference,
    round(100.0 * abs(r.cumulative_value - r.computed_value) / nullif(abs(r.computed_value), 0), 1)::numeric
                                                        as relative_divergence_pct,
    {{ threshold }}::numeric                            as threshold_pct,
    (r.divergence_kind is not null)::boolean            as is_divergent,
    r.divergence_kind::text                             as divergence_kind,
    'warning'::text                                     as severity,
    r.file_id::bigint                                   as file_id
from judged as r
left join {{ ref('ref_admin_units') }} as u
    on u.map_version = r.map_version and u.unit_code = r.unit_code and u.is_reporting_unit
-- one week's rows together on disk (why: fct_quality_checks)
order by week_key
