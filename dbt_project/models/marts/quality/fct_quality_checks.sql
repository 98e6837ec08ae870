{{ config(
    pre_hook=["{{ delete_changed_weeks() }}"],
    post_hook=["{{ create_index('week_key', 'week') }}"]
) }}
{#- Value and consistency rules (DOMAIN.md section 7), one row per evaluated check: week x rule x
    subject (a reporting unit, a province, a platform). is_violation = 1 when the rule is broken.
    Every row is attributed to the province on today's boundaries that publishes it (scope_key
    'province-XX'), so the marts gate (suite marts_quality_checks) blocks only that province.

    rule_code                         severity  on
    count_non_negative                error     computed stocks/flows/distinct counts (unit, province)
    pct_in_range                      error     computed % ratios within 0..100
    households_le_agri_households     error     computed hh_with_shop <= agricultural households (base)
    reported_households_le_agri_households error  form's cumulative household counts <= the unit's base
    reported_count_non_negative       error     form's cumulative values >= 0
    one_form_per_unit_week            error     exactly one winning form per unit and week in fct_reported_values
    form_row_omitted                  warning   a form row (ref_indicators.in_weekly_form) the winning form left out
                                                (a row only when omitted; landing's FORM_ROWS_OMITTED names it too)
    order_id_unique_latest            error     order ids unique per platform in int_platforms__orders
    stock_not_decreasing              warning   computed stock level >= previous week's
    shop_le_digitized                 warning   hh_with_shop <= hh_digitized (when a register exists)
    digitized_le_agri_households      warning   hh_digitized <= agricultural households (base)
    ocop_le_registry                  warning   ocop_listed <= OCOP >=3 star registry (province base)
    Computed values that are empty (0 / NULL) are not evaluated: they break no rule.
    Incremental (macros/incremental.sql): the weeks ending on or after the earliest changed date and
    the weeks of newly landed forms are deleted (pre-hook) and checked again; the others are kept.
-#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
-- depends_on: {{ ref('stg_weekly_forms__forms') }}  {# changed_weeks() reads the newly landed forms #}
with

weeks as (
    select period_key as week_key, period_start as week_start, period_end as week_end
    from {{ ref('int_calendar__periods') }}
    where period_type = 'week'
    {% if is_incremental() %} and period_key = any({{ changed_weeks() }}) {% endif %}
),

facts as (

    select f.*, i.kind, i.unit_vi
    from {{ ref('fct_indicator_values') }} as f
    join {{ ref('ref_indicators') }} as i on i.indicator_code = f.indicator_code
    -- the weeks as an array: read by the period index (a join with them scanned every week's rows)
    where f.period_key = any(array(select week_key from weeks))
      and f.period_type = 'week' and f.platform = 'all'
      and (f.scope_level = 'unit' or (f.scope_level = 'province' and f.map_version = 'post2025'))
      -- an empty value (0 / NULL) breaks no rule: not evaluated, so the zero rows a series gets for
      -- the weeks before it starts (or after it is gone) add no check rows to weeks left unchanged
      and (coalesce(f.cumulative_value, 0) <> 0 or coalesce(f.value_in_period, 0) <> 0)

),

geo as (select * from {{ ref('int_geography__reporting_units') }}),
names as (select * from {{ ref('dim_admin_unit') }}),

scoped as (

    select facts.*,
           case when facts.scope_level = 'unit' then g.current_province_code else facts.scope_code end as province,
           n.unit_name as subject_name,
           extract(isoyear from to_date(facts.period_key || '-1', 'IYYY-"W"IW-ID'))::int as week_year
    from facts
    left join geo as g on facts.scope_level = 'unit' and g.map_version = facts.map_version
                        and g.unit_code = facts.scope_code
    left join names as n on n.map_version = facts.map_version and n.unit_code = facts.scope_code
                         and (n.unit_level = 'province') = (facts.scope_level = 'province')

),

bases as (select * from {{ ref('ref_bases') }}),

-- the base of the week's year, else the nearest year available for that unit
base_for as (

    select distinct on (s.map_version, s.scope_level, s.scope_code, s.week_year, b.base_code)
           s.map_version, s.scope_level, s.scope_code, s.week_year, b.base_code, b.base_value
    from (select distinct map_version, scope_level, scope_code, week_year from scoped) as s
    join bases as b on b.map_version = s.map_version and b.unit_code = s.scope_code
                   and (b.unit_level = 'province') = (s.scope_level = 'province')
    order by s.map_version, s.scope_level, s.scope_code, s.week_year, b.base_code,
             abs(b.base_year - s.week_year), b.base_year desc

),

wide as (

    select period_key, map_version, scope_level, scope_code, province, subject_name, week_year,
           max(cumulative_value) filter (where indicator_code = 'hh_with_shop')  as hh_with_shop,
           max(cumulative_value) filter (where indicator_code = 'hh_digitized')  as hh_digitized,
           max(cumulative_value) filter (where indicator_code = 'ocop_listed')   as ocop_listed
    from scoped
    group by 1, 2, 3, 4, 5, 6, 7

),

wide_b as (

    select w.*, a.base_value as agri_households, o.base_value as ocop3_products
    from wide as w
    left join base_for as a on a.map_version = w.map_version and a.scope_level = w.scope_level
        and a.scope_code = w.scope_code and a.week_year = w.week_year and a.base_code = 'agri_households'
    left join base_for as o on o.map_version = w.map_version and o.scope_level = w.scope_level
        and o.scope_code = w.scope_code and o.week_year = w.week_year and o.base_code = 'ocop3_products'

),

computed_checks as (

    -- counts never negative (levels, and amounts of flows)
    select period_key, 'count_non_negative' as rule_code, 'error' as severity, province, scope_level,
           scope_code, subject_name, indicator_code,
           least(coalesce(cumulative_value, 0),
                 case when kind in ('flow', 'distinct_in_period') then coalesce(value_in_period, 0) else 0 end) as observed_value,
           0::numeric as limit_value,
           (coalesce(cumulative_value, 0) < 0
            or (kind in ('flow', 'distinct_in_period') and coalesce(value_in_period, 0) < 0)) as broken
    from scoped where kind in ('stock', 'flow', 'distinct_in_period', 'gauge')

    union all
    select period_key, 'pct_in_range', 'error', province, scope_level, scope_code, subject_name, indicator_code,
           coalesce(cumulative_value, value_in_period), 100,
           coalesce(cumulative_value, value_in_period) not between 0 and 100
    from scoped where kind = 'ratio' and unit_vi = '%'

    union all
    select period_key, 'stock_not_decreasing', 'warning', province, scope_level, scope_code, subject_name,
           indicator_code, value_in_period, 0, coalesce(value_in_period, 0) < 0
    from scoped where kind = 'stock' and previous_value is not null

    union all
    select period_key, 'households_le_agri_households', 'error', province, scope_level, scope_code, subject_name,
           'hh_with_shop', hh_with_shop, agri_households, hh_with_shop > agri_households
    from wide_b where agri_households is not null and hh_with_shop is not null

    union all
    select period_key, 'shop_le_digitized', 'warning', province, scope_level, scope_code, subject_name,
           'hh_with_shop', hh_with_shop, hh_digitized, hh_with_shop > hh_digitized
    from wide_b where coalesce(hh_digitized, 0) > 0 and hh_with_shop is not null

    union all
    select period_key, 'digitized_le_agri_households', 'warning', province, scope_level, scope_code, subject_name,
           'hh_digitized', hh_digitized, agri_households, hh_digitized > agri_households
    from wide_b where agri_households is not null and hh_digitized is not null

    union all
    select period_key, 'ocop_le_registry', 'warning', province, scope_level, scope_code, subject_name,
           'ocop_listed', ocop_listed, ocop3_products, ocop_listed > ocop3_products
    from wide_b where ocop3_products is not null and ocop_listed is not null

),

reported_rows as (
    select r.*, extract(isoyear from r.week_start)::int as report_year
    from {{ ref('fct_reported_values') }} as r
    where r.week_key = any(array(select week_key from weeks))
),

-- the agricultural-household base of each unit and year reported: the base year nearest the report's
-- year, the later one on a tie. Chosen once per unit and year, not looked up per reported row (a lateral
-- per row scanned the bases 1.5M times for 27 national weeks).
unit_year_base as (
    select distinct on (u.map_version, u.unit_code, u.report_year)
        u.map_version, u.unit_code, u.report_year, b.base_value
    from (select distinct map_version, unit_code, report_year from reported_rows) as u
    join bases as b
        on b.map_version = u.map_version and b.unit_code = u.unit_code and b.unit_level <> 'province'
       and b.base_code = 'agri_households'
    order by u.map_version, u.unit_code, u.report_year, abs(b.base_year - u.report_year), b.base_year desc
),

reported as (

    select r.*, b.base_value as agri_households
    from reported_rows as r
    left join unit_year_base as b
        on b.map_version = r.map_version and b.unit_code = r.unit_code and b.report_year = r.report_year

),

reported_checks as (

    select week_key as period_key, 'reported_households_le_agri_households' as rule_code, 'error' as severity,
           current_province_code as province, 'unit' as scope_level, unit_code as scope_code,
           unit_name as subject_name, indicator_code, cumulative_value as observed_value,
           agri_households as limit_value, cumulative_value > agri_households as broken
    from reported
    where indicator_code like 'hh\_%' and cumulative_value is not null and agri_households is not null

    union all
    select week_key, 'reported_count_non_negative', 'error', current_province_code, 'unit', unit_code, unit_name,
           indicator_code, cumulative_value, 0, cumulative_value < 0
    from reported where cumulative_value is not null

    union all
    select week_key, 'one_form_per_unit_week', 'error', min(current_province_code), 'unit', unit_code,
           min(unit_name), null, count(distinct file_id), 1,
           count(distinct file_id) <> 1 or count(*) <> count(distinct indicator_code)
    from reported
    group by week_key, map_version, unit_code

    union all
    -- a row the winning form left out: not reported (NULL, never 0); the warning names it
    select f.week_key, 'form_row_omitted', 'warning', f.current_province_code, 'unit', f.unit_code, f.unit_name,
           i.indicator_code, null::numeric, null::numeric, true
    from (select distinct week_key, unit_code, unit_name, current_province_code, file_id from reported) as f
    join {{ ref('ref_indicators') }} as i on i.in_weekly_form
    where not exists (select 1 from reported as r
                      where r.file_id = f.file_id and r.indicator_code = i.indicator_code)

),

order_checks as (

    select w.week_key as period_key,
           'order_id_unique_latest' as rule_code, 'error' as severity,
           current_province_code as province, 'platform' as scope_level, platform as scope_code,
           platform as subject_name, null::text as indicator_code,
           (count(*) - count(distinct order_id))::numeric as observed_value, 0::numeric as limit_value,
           count(*) <> count(distinct order_id) as broken
    from {{ ref('int_platforms__orders') }} as o
    join weeks as w on o.ordered_date between w.week_start and w.week_end
    group by 1, 4, 5, 6

),

all_checks as (

    select * from computed_checks
    union all select * from reported_checks
    union all select * from order_checks

)

select
    period_key::text                                                    as week_key,
    rule_code::text                                                     as rule_code,
    severity::text                                                      as severity,
    ('province-' || coalesce(province, 'unknown'))::text                as scope_key,
    province::text                                                      as province_code,
    scope_level::text                                                   as subject_level,
    scope_code::text                                                    as subject_code,
    subject_name::text                                                  as subject_name,
    indicator_code::text                                                as indicator_code,
    observed_value::numeric                                             as observed_value,
    limit_value::numeric                                                as limit_value,
    (case when broken then 1 else 0 end)::integer                       as is_violation,
    (rule_code || ':' || scope_level || '-' || scope_code || coalesce(':' || indicator_code, ''))::text as row_key
from all_checks
where period_key is not null
-- one week's rows together on disk: the gate and the publisher read one week by its index (scattered rows
-- after a full build made each query visit most of the table's pages)
order by week_key
