{#- The map whose provinces carry each target year's region and nation sums: the post-reform map as
    soon as the year has post-reform province targets, else the pre-reform one (its provinces rolled
    up to today's regions). -#}
select
    target_year,
    case when bool_or(map_version = 'post2025') then 'post2025' else 'pre2025' end as map_version
from {{ ref('ref_targets') }}
where scope_level = 'province'
group by target_year
