{#- Reconciliation of the weekly forms with the warehouse: per reporting unit, week and weekly-form
    indicator, the form's self-reported cumulative figure (fct_reported_values, the winning form)
    against the same indicator computed from platform / register data (fct_indicator_values, unit
    scope, platform 'all'). relative_divergence_pct = |reported - computed| / |computed| x 100;
    when computed = 0 it is NULL and a non-zero report is divergent. Divergent (severity warning)
    above var reconciliation_threshold_pct (default 10). Not-reported cells (NULL) are not compared. -#}
{%- set threshold = var('reconciliation_threshold_pct', 10) -%}
with

reported as (select * from {{ ref('fct_reported_values') }} where cumulative_value is not null),

computed as (

    select period_key, map_version, scope_code, indicator_code, cumulative_value
    from {{ ref('fct_indicator_values') }}
    where period_type = 'week' and platform = 'all' and scope_level = 'unit'

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
    c.cumulative_value::numeric                         as computed_value,
    (r.cumulative_value - c.cumulative_value)::numeric  as difference,
    round(100.0 * abs(r.cumulative_value - c.cumulative_value) / nullif(abs(c.cumulative_value), 0), 1)::numeric
                                                        as relative_divergence_pct,
    {{ threshold }}::numeric                            as threshold_pct,
    (case when c.cumulative_value is null then false
          when c.cumulative_value = 0 then r.cumulative_value <> 0
          else 100.0 * abs(r.cumulative_value - c.cumulative_value) / abs(c.cumulative_value) > {{ threshold }}
     end)::boolean                                      as is_divergent,
    'warning'::text                                     as severity,
    r.file_id::bigint                                   as file_id
from reported as r
left join computed as c
    on c.period_key = r.week_key and c.map_version = r.map_version and c.scope_code = r.unit_code
   and c.indicator_code = r.indicator_code
left join {{ ref('ref_admin_units') }} as u
    on u.map_version = r.map_version and u.unit_code = r.unit_code and u.is_reporting_unit
