-- 'all' deduplicates households across platforms: it can be less than postmart + voso, but never
-- less than either platform alone (distinct counts), and equals their sum for flows.
with f as (select * from {{ ref('fct_indicator_values') }})
select a.period_type, a.period_key, a.scope_level, a.scope_code, a.map_version, a.indicator_code,
       a.cumulative_value as all_value, p.platform, p.cumulative_value as platform_value
from f as a
join f as p
  on (p.period_type, p.period_key, p.scope_level, p.scope_code, p.map_version, p.indicator_code)
   = (a.period_type, a.period_key, a.scope_level, a.scope_code, a.map_version, a.indicator_code)
 and p.platform <> 'all'
where a.platform = 'all'
  and a.indicator_kind in ('stock', 'flow')
  and p.cumulative_value > a.cumulative_value + 1e-9
