{#- incremental unless completeness_provinces = 'active' (as rpt_reporting_completeness, whose
    flags it carries: there a province's first form changes every earlier week) -#}
{{ config(
    materialized=('incremental' if var('completeness_provinces', 'all') == 'all' else 'table'),
    pre_hook=["{{ delete_changed_report_weeks() }}"],
    post_hook=["{{ create_index('week_key', 'week') }}"]
) }}  {#- the quality gate reads one week #}
{#- The weekly report (appendix 02 layout) per ISO week for every province on today's boundaries,
    region and the nation, all platforms together: the 17 weekly-form rows in template order, then
    the N group. Notes: III.6 buyer provinces by region, III.7 buyer countries (Vietnamese names).
    quality_flags: short Vietnamese data-quality flags as a JSON array text (completeness, plausibility,
    reconciliation, consistency warnings; int_quality__report_flags), NULL when there is none.
    Per-platform figures beside the total (DOMAIN §6): value_in_week_<platform> and
    cumulative_value_<platform> for postmart and voso, NULL where an indicator has no per-platform series
    (the household register's); platforms_additive false where postmart + voso may exceed the total.
    Incremental: the pre-hook deletes the weeks of changed_weeks() (the weeks fct_indicator_values and
    the quality models recompute), or every week when a scope is new (every week has a row for every
    scope); the weeks then missing are built again, from the facts of those weeks only. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
-- depends_on: {{ ref('stg_weekly_forms__forms') }}  {# changed_weeks() reads the newly landed forms #}
with

weeks as (
    select * from {{ ref('int_calendar__periods') }} where period_type = 'week'
    {% if is_incremental() %}
      and period_key not in (select distinct stored.week_key from {{ this }} as stored)
    {% endif %}
),
indicators as (select * from {{ ref('ref_indicators') }}),
provinces as (select * from {{ ref('ref_provinces') }} where map_version = 'post2025'),
countries as (select * from {{ ref('ref_countries') }}),

facts as (

    select * from {{ ref('fct_indicator_values') }}
    where {{ weekly_report_facts() }}
      and period_key in (select period_key from weeks)

),

scopes as (

    select distinct scope_level, scope_code from facts where platform = 'all'
    {% if is_incremental() %}
    union
    select distinct scope_level, scope_code from {{ this }}
    {% endif %}

),

scope_names as (

    select 'province'::text as scope_level, province_code as scope_code, province_name as scope_name from provinces
    union all
    select distinct 'region', region_code, region_name from provinces
    union all
    select 'nation', '{{ var("nation_code") }}', 'Toàn quốc'

),

market_first_days as (

    -- the first day each buyer province / country is a market of the scope, all platforms together
    select m.indicator_code, scopes.scope_level, scopes.scope_code, m.member_key, min(m.first_date) as first_date
    from {{ ref('int_indicators__members_per_unit') }} as m
    {{ expand_scopes('m') }}
    where m.indicator_code in ('domestic_markets', 'foreign_markets')
      and platforms.platform_scope = 'all' and scopes.map_version = 'post2025'
      and scopes.scope_level in ('province', 'region', 'nation') and scopes.scope_code is not null
    group by 1, 2, 3, 4

),

markets as (

    select f.indicator_code, f.scope_level, f.scope_code, w.period_key as week_key, f.member_key, f.first_date
    from market_first_days as f
    join weeks as w on f.first_date <= w.period_end

),

domestic_by_region as (

    select m.scope_level, m.scope_code, m.week_key, p.region_code, p.region_name,
           string_agg(p.province_short_name, ', ' order by p.province_code) as names
    from markets as m
    join provinces as p on p.province_code = m.member_key
    where m.indicator_code = 'domestic_markets'
    group by 1, 2, 3, 4, 5

),

notes as (

    select 'domestic_markets'::text as indicator_code, scope_level, scope_code, week_key,
           string_agg(region_name || ': ' || names, '; '
                      order by case region_code when 'bac' then 1 when 'trung' then 2 else 3 end) as notes
    from domestic_by_region
    group by 1, 2, 3, 4

    union all

    select 'foreign_markets', m.scope_level, m.scope_code, m.week_key,
           string_agg(coalesce(c.country_name_vi, m.member_key), ', ' order by m.first_date, m.member_key)
    from markets as m
    left join countries as c on c.country_code = m.member_key
    where m.indicator_code = 'foreign_markets'
    group by 1, 2, 3, 4

),

grid as (

    select w.period_key as week_key, w.period_start, w.period_end, s.scope_level, s.scope_code, i.*
    from weeks as w
    cross join scopes as s
    cross join indicators as i

)

select
    g.week_key::text                                          as week_key,
    g.period_start::date                                      as week_start,
    g.period_end::date                                        as week_end,
    g.scope_level::text                                       as scope_level,
    g.scope_code::text                                        as scope_code,
    n.scope_name::text                                        as scope_name,
    g.indicator_code::text                                    as indicator_code,
    g.section::text                                           as section,
    g.tt::text                                                as tt,
    g.sort_order::integer                                     as sort_order,
    g.label_vi::text                                          as indicator_label_vi,
    g.unit_vi::text                                           as unit_vi,
    g.kind::text                                              as indicator_kind,
    f.value_in_period::numeric                                as value_in_week,
    f.growth_pct::numeric                                     as growth_pct,
    f.cumulative_value::numeric                               as cumulative_value,
    f.target_value::numeric                                   as target_value,
    f.target_attainment_pct::numeric                          as target_attainment_pct,
    f.attainment_flag::text                                   as attainment_flag,
    f.is_sample_target::boolean                               as is_sample_target,
    notes.notes::text                                         as notes,
    qf.quality_flags::text                                    as quality_flags,
    fp.value_in_period::numeric                               as value_in_week_postmart,
    fp.cumulative_value::numeric                              as cumulative_value_postmart,
    fv.value_in_period::numeric                               as value_in_week_voso,
    fv.cumulative_value::numeric                              as cumulative_value_voso,
    f.platforms_additive::boolean                             as platforms_additive
from grid as g
left join facts as f
    on f.period_key = g.week_key and f.scope_level = g.scope_level and f.scope_code = g.scope_code
   and f.indicator_code = g.indicator_code and f.platform = 'all'
left join facts as fp
    on fp.period_key = g.week_key and fp.scope_level = g.scope_level and fp.scope_code = g.scope_code
   and fp.indicator_code = g.indicator_code and fp.platform = 'postmart'
left join facts as fv
    on fv.period_key = g.week_key and fv.scope_level = g.scope_level and fv.scope_code = g.scope_code
   and fv.indicator_code = g.indicator_code and fv.platform = 'voso'
left join notes
    on notes.week_key = g.week_key and notes.scope_level = g.scope_level and notes.scope_code = g.scope_code
   and notes.indicator_code = g.indicator_code
left join scope_names as n on n.scope_level = g.scope_level and n.scope_code = g.scope_code
left join {{ ref('int_quality__report_flags') }} as qf
    on qf.week_key = g.week_key and qf.scope_level = g.scope_level and qf.scope_code = g.scope_code
   and qf.indicator_code = g.indicator_code
-- one week's rows together on disk (why: fct_quality_checks)
order by week_key
