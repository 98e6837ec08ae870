{{ config(sql_header="set local work_mem = '256MB';") }}  {#- one hash aggregate over every period: in memory #}
-- 'all' deduplicates households across platforms: it can be less than postmart + voso, but never
-- less than either platform alone (distinct counts), and equals their sum for flows. One pass over
-- the mart, grouped by series without the platform (a self-join read it twice: 9 s at 26 weeks).
select period_type, period_key, scope_level, scope_code, map_version, indicator_code,
       max(cumulative_value) filter (where platform = 'all')  as all_value,
       max(cumulative_value) filter (where platform <> 'all') as highest_platform_value
from {{ ref('fct_indicator_values') }}
where indicator_kind in ('stock', 'flow')
group by period_type, period_key, scope_level, scope_code, map_version, indicator_code
having max(cumulative_value) filter (where platform <> 'all')
     > max(cumulative_value) filter (where platform = 'all') + 1e-9
