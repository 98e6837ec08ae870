{{ config(post_hook=["{{ create_index('scope_level, scope_code, indicator_code, target_year', 'lookup') }}"]) }}  {#- fct_indicator_values probes a row's target by this index #}
{#- Yearly targets as absolute values per scope (targets on bases measured in the same scope, e.g. %
    of the products listed, are per period: int_targets__same_scope): pct_of_base -> pct / 100 x base of the same
    province, map and year (base_code from ref_indicators); absolute as is. Nation: explicit
    national targets (a pct_of_base one on the sum of province bases); otherwise, like regions, the
    sum of the provinces' resolved targets for base-proportional indicators (post2025 provinces when
    the year has post2025 targets, else pre2025 provinces on today's regions). -#}
with

map_versions as (select * from {{ ref('int_targets__map_versions') }}),
targets as (select * from {{ ref('ref_targets') }}),
bases as (select * from {{ ref('ref_bases') }} where unit_level = 'province'),
indicators as (select * from {{ ref('ref_indicators') }}),
provinces as (select * from {{ ref('int_geography__provinces') }}),

province_targets as (

    select
        'province'::text                    as scope_level,
        t.province_code                     as scope_code,
        t.map_version,
        t.indicator_code,
        t.target_year,
        t.target_type,
        case when t.target_type = 'absolute' then t.target_value
             when t.target_type = 'pct_of_base' then t.target_value / 100.0 * b.base_value
        end                                 as target_value,
        -- a real target on a sample (demo) base is still sample data
        (t.is_sample or (t.target_type = 'pct_of_base' and coalesce(b.is_sample, true)))
                                            as is_sample_target,
        i.target_basis,
        p.region_code
    from targets as t
    join indicators as i using (indicator_code)
    left join bases as b
        on b.map_version = t.map_version and b.unit_code = t.province_code
       and b.base_year = t.target_year and b.base_code = i.base_code
    left join provinces as p on p.map_version = t.map_version and p.province_code = t.province_code
    where t.scope_level = 'province'
      and (t.target_type = 'absolute' or i.target_basis = 'pct_of_base')  -- same-scope bases: int_targets__same_scope

),

summed as (

    select pt.region_code, pt.indicator_code, pt.target_year,
           sum(pt.target_value) as target_value, bool_or(pt.is_sample_target) as is_sample_target,
           grouping(pt.region_code) = 1 as is_nation
    from province_targets as pt
    join map_versions as m on m.target_year = pt.target_year and m.map_version = pt.map_version
    where pt.target_basis = 'pct_of_base' and pt.target_value is not null
    group by grouping sets ((pt.region_code, pt.indicator_code, pt.target_year), (pt.indicator_code, pt.target_year))

),

base_map_for_year as (

    select base_year,
           case when bool_or(map_version = 'post2025') then 'post2025' else 'pre2025' end as map_version
    from bases group by base_year

),

nation_bases as (

    select b.base_year, b.base_code, sum(b.base_value) as base_value, bool_or(b.is_sample) as is_sample
    from bases as b
    join base_map_for_year as m on m.base_year = b.base_year and m.map_version = b.map_version
    group by 1, 2

),

nation_explicit as (

    select
        'nation'::text as scope_level,
        '{{ var("nation_code") }}'::text as scope_code,
        'post2025'::text as map_version,
        t.indicator_code,
        t.target_year,
        t.target_type,
        case when t.target_type = 'absolute' then t.target_value
             when t.target_type = 'pct_of_base' then t.target_value / 100.0 * nb.base_value end as target_value,
        (t.is_sample or (t.target_type = 'pct_of_base' and coalesce(nb.is_sample, true))) as is_sample_target
    from targets as t
    join indicators as i using (indicator_code)
    left join nation_bases as nb on nb.base_year = t.target_year and nb.base_code = i.base_code
    where t.scope_level = 'nation'
      and (t.target_type = 'absolute' or i.target_basis = 'pct_of_base')

)

select scope_level, scope_code, map_version, indicator_code, target_year, target_type, target_value, is_sample_target
from province_targets

union all

select 'region', region_code, 'post2025', indicator_code, target_year, 'sum_of_provinces', target_value, is_sample_target
from summed where not is_nation and region_code is not null

union all

select * from nation_explicit

union all

select 'nation', '{{ var("nation_code") }}', 'post2025', s.indicator_code, s.target_year, 'sum_of_provinces',
       s.target_value, s.is_sample_target
from summed as s
where s.is_nation
  and not exists (select 1 from nation_explicit as n
                  where n.indicator_code = s.indicator_code and n.target_year = s.target_year)
