{{ config(post_hook=["{{ create_index('scope_level, scope_code, indicator_code, period_type, period_key', 'lookup') }}"]) }}  {#- fct_indicator_values probes a row's target by this index #}
{#- Targets whose base is measured in the same scope, per period (the year's percentage applied to
    the base at the period end), unlike int_targets__resolved whose bases are reference data:
      pct_of_listed   -> agricultural products listed on the platforms (products_branded, traceable)
      pct_of_inputs   -> production inputs listed on the platforms (inputs_discounted)
      pct_of_required -> the required information categories (info_items)
    Regions and the nation: the sum of their provinces' targets (provinces on the map of the target
    year, as in int_targets__resolved); for pct_of_required, whose base does not add up over
    provinces, the mean of the provinces' percentages times the required categories. -#}
with

map_versions as (select * from {{ ref('int_targets__map_versions') }}),
targets as (select * from {{ ref('ref_targets') }} where scope_level = 'province' and target_type = 'pct_of_base'),
indicators as (
    select * from {{ ref('ref_indicators') }}
    where target_basis in ('pct_of_listed', 'pct_of_inputs', 'pct_of_required')
),
periods as (select * from {{ ref('int_calendar__periods') }}),
provinces as (select * from {{ ref('int_geography__provinces') }}),
required_categories as (
    select count(*) as n from {{ ref('ref_info_categories') }} where is_required
),

base_levels as (

    select case indicator_code when '_products_listed' then 'pct_of_listed' else 'pct_of_inputs' end as target_basis,
           scope_code as province_code, map_version, as_of_date, running_value
    from {{ ref('int_indicators__running_levels') }}
    where scope_level = 'province' and platform = 'all'
      and indicator_code in ('_products_listed', 'inputs_listed')

),

province_targets as (

    select
        p.period_type,
        p.period_key,
        t.province_code,
        t.map_version,
        t.indicator_code,
        i.target_basis,
        t.target_year,
        t.target_value                                   as target_pct,
        t.target_value / 100.0 * case when i.target_basis = 'pct_of_required' then r.n
                                      else coalesce(b.running_value, 0) end as target_value,
        t.is_sample,
        pr.region_code
    from targets as t
    join indicators as i using (indicator_code)
    join periods as p on p.year = t.target_year
    cross join required_categories as r
    left join base_levels as b
        on b.target_basis = i.target_basis and b.province_code = t.province_code
       and b.map_version = t.map_version and b.as_of_date = p.period_end
    left join provinces as pr on pr.map_version = t.map_version and pr.province_code = t.province_code
    -- provinces of the old map exist for pre-reform periods only
    where not (t.map_version = 'pre2025' and p.period_start >= date '{{ var("reform_date") }}')

),

summed as (

    select
        pt.period_type, pt.period_key, pt.indicator_code,
        case when grouping(pt.region_code) = 1 then 'nation' else 'region' end as scope_level,
        case when grouping(pt.region_code) = 1 then '{{ var("nation_code") }}'
             else pt.region_code end                                          as scope_code,
        case when max(pt.target_basis) = 'pct_of_required'
             then avg(pt.target_pct) / 100.0 * max(r.n)
             else sum(pt.target_value) end                                   as target_value,
        bool_or(pt.is_sample)                                                 as is_sample
    from province_targets as pt
    join map_versions as m on m.target_year = pt.target_year and m.map_version = pt.map_version
    cross join required_categories as r
    group by grouping sets ((pt.period_type, pt.period_key, pt.indicator_code, pt.region_code),
                            (pt.period_type, pt.period_key, pt.indicator_code))

)

select period_type, period_key, 'province'::text as scope_level, province_code as scope_code, map_version,
       indicator_code, trim_scale(round(target_value, 4)) as target_value, is_sample as is_sample_target
from province_targets

union all

select period_type, period_key, scope_level, scope_code, 'post2025', indicator_code,
       trim_scale(round(target_value, 4)), is_sample
from summed
where scope_code is not null
