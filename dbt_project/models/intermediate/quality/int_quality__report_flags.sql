{#- Short Vietnamese data-quality flags per week x scope (province on today's boundaries, region,
    nation) x indicator for marts.rpt_weekly_report.quality_flags, as a JSON array text
    ('["Cảnh báo: 2 đơn vị báo cáo trễ", ...]'; JSON because flags contain decimal commas).
    * completeness (on the report's first row, ocop_listed): late and missing units;
    * plausibility (fct_plausibility outliers): 'Bất thường (MAD=5,2) tại <unit>';
    * reconciliation (fct_reconciliation divergent): 'Chênh lệch 18% so với dữ liệu sàn tại <unit>'
      (beyond the tolerance), 'Báo cáo 5 nhưng dữ liệu sàn ghi nhận 0 tại <unit>' (none on the platforms);
    * consistency (fct_quality_checks violations): stock decreased, shops > digitized, ... -#}
{%- set nation = var('nation_code') -%}
with

completeness as (select * from {{ ref('rpt_reporting_completeness') }}),
plaus as (select * from {{ ref('fct_plausibility') }} where is_outlier),
recon as (select * from {{ ref('fct_reconciliation') }} where is_divergent),
checks as (select * from {{ ref('fct_quality_checks') }} where is_violation = 1),
indicators as (select * from {{ ref('ref_indicators') }}),
provinces as (select * from {{ ref('ref_provinces') }} where map_version = 'post2025'),

completeness_flags as (

    select week_key, scope_level, scope_code, 'ocop_listed'::text as indicator_code, 1 as flag_order,
           'Cảnh báo: ' || late_units || ' đơn vị báo cáo trễ' as flag
    from completeness where late_units > 0
    union all
    select week_key, scope_level, scope_code, 'ocop_listed', 2,
           'Cảnh báo: ' || missing_units || '/' || expected_units || ' đơn vị chưa gửi báo cáo'
    from completeness where missing_units > 0

),

-- unit-level findings expanded to province / region / nation
unit_findings as (

    select 'plausibility'::text as kind, week_key, current_province_code, region_code, indicator_code,
           unit_code, unit_name, robust_score as measure
    from plaus
    union all
    select case when divergence_kind = 'none_on_platforms' then 'reconciliation_none' else 'reconciliation' end,
           week_key, current_province_code, region_code, indicator_code, unit_code, unit_name,
           case when divergence_kind = 'none_on_platforms' then reported_value else relative_divergence_pct end
    from recon
    union all
    select 'check:' || c.rule_code || ':' || c.severity, c.week_key, c.province_code, p.region_code,
           c.indicator_code, c.subject_code, c.subject_name, c.observed_value
    from checks as c
    left join provinces as p on p.province_code = c.province_code
    where c.indicator_code is not null and c.subject_level in ('unit', 'province')

),

expanded as (

    select f.*, s.scope_level, s.scope_code
    from unit_findings as f
    cross join lateral (values ('province'::text, f.current_province_code), ('region'::text, f.region_code),
                               ('nation'::text, '{{ nation }}'::text)) as s (scope_level, scope_code)
    where s.scope_code is not null

),

grouped as (

    select kind, week_key, scope_level, scope_code, indicator_code,
           count(distinct unit_code) as units,
           min(unit_name) as one_unit,
           max(abs(measure)) as max_measure
    from expanded
    group by 1, 2, 3, 4, 5

),

finding_flags as (

    select g.week_key, g.scope_level, g.scope_code, g.indicator_code,
           case when g.kind = 'plausibility' then 3 when g.kind like 'reconciliation%' then 4 else 5 end as flag_order,
           case
             when g.kind = 'plausibility' then
                 'Bất thường' || coalesce(' (MAD=' || replace(round(g.max_measure, 1)::text, '.', ',') || ')', '')
                 || case when g.units = 1 then ' tại ' || g.one_unit else ' tại ' || g.units || ' đơn vị' end
             when g.kind = 'reconciliation' then
                 'Chênh lệch ' || case when g.units > 1 then 'tới ' else '' end
                 || coalesce(replace(round(g.max_measure, 0)::text, '.', ',') || '%', 'lớn')
                 || case when i.primary_source ilike '%register%' then ' so với danh sách hộ' else ' so với dữ liệu sàn' end
                 || case when g.units = 1 then ' tại ' || g.one_unit else ' tại ' || g.units || ' đơn vị' end
             when g.kind = 'reconciliation_none' then
                 'Báo cáo ' || case when g.units = 1 then replace(trim_scale(g.max_measure)::text, '.', ',') || ' '
                                    else 'có số liệu ' end
                 || 'nhưng ' || case when i.primary_source ilike '%register%' then 'danh sách hộ' else 'dữ liệu sàn' end
                 || ' ghi nhận 0'
                 || case when g.units = 1 then ' tại ' || g.one_unit else ' tại ' || g.units || ' đơn vị' end
             else
                 case when g.kind like '%:error' then 'Lỗi: ' else 'Cảnh báo: ' end
                 || case split_part(g.kind, ':', 2)
                      when 'stock_not_decreasing' then 'lũy kế giảm so với tuần trước'
                      when 'shop_le_digitized' then 'số hộ có gian hàng vượt số hộ đã số hoá'
                      when 'digitized_le_agri_households' then 'số hộ đã số hoá vượt số hộ SXNN'
                      when 'ocop_le_registry' then 'sản phẩm OCOP trên sàn vượt danh mục OCOP ≥3 sao'
                      when 'households_le_agri_households' then 'số hộ có gian hàng vượt số hộ SXNN'
                      when 'reported_households_le_agri_households' then 'số hộ báo cáo vượt số hộ SXNN'
                      when 'count_non_negative' then 'số lượng âm'
                      when 'reported_count_non_negative' then 'số lượng báo cáo âm'
                      when 'pct_in_range' then 'tỉ lệ ngoài khoảng 0–100%'
                      else split_part(g.kind, ':', 2) end
                 || case when g.units = 1 then ' tại ' || g.one_unit else ' tại ' || g.units || ' đơn vị' end
           end as flag
    from grouped as g
    left join indicators as i on i.indicator_code = g.indicator_code

),

all_flags as (

    select * from completeness_flags
    union all
    select * from finding_flags

)

select week_key, scope_level, scope_code, indicator_code,
       json_agg(flag order by flag_order, flag)::text as quality_flags
from all_flags
group by 1, 2, 3, 4
