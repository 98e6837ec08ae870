-- Every week x scope of the weekly report carries the 17 rows of the appendix-02 template.
select week_key, scope_level, scope_code, count(*) filter (where section in ('I', 'II', 'III', 'IV')) as form_rows
from {{ ref('rpt_weekly_report') }}
group by 1, 2, 3
having count(*) filter (where section in ('I', 'II', 'III', 'IV')) <> 17
