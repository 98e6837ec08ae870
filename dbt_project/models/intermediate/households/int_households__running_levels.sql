{{ config(
    pre_hook=["{{ delete_levels_window() }}"],
    post_hook=["{{ create_index('as_of_date', 'day') }}",
               "{{ create_index('indicator_code, scope_level, scope_code, map_version, as_of_date', 'key', unique=true) }}"]
) }}
{#- Register-based stock levels at every as-of date, per scope (platform 'all'): households
    digitised (in the latest snapshot of their unit), trained in digital skills / in logistics by
    the date, and the numerators of the conversion ratios. Distinct households per scope.
    Incremental (macros/incremental.sql levels_window()): the as-of dates from the earliest changed
    date on, or from the first one after the last stored, are deleted and recomputed. A level at an
    earlier date cannot have changed: a new register changes every date (-infinity), and the
    platform links (first shop, first purchase, first sale after training) change from the date of
    the shop or order that moved them. -#}
-- depends_on: {{ ref('int_indicators__changes') }}  {# the change driver: hooks, changed_from() #}
-- depends_on: {{ ref('int_calendar__asof_dates') }}  {# levels_window() #}
with

snapshot as (

    select
        s.*,
        s.map_version as unit_map_version,
        'all'::text   as platform
    from {{ ref('int_households__snapshot_asof') }} as s
    {% if is_incremental() %} where s.as_of_date >= {{ levels_window() }} {% endif %}

),

links as (select * from {{ ref('int_households__platform_links') }}),

scoped as (

    select
        s.as_of_date,
        scopes.scope_level,
        scopes.scope_code,
        scopes.map_version,
        s.household_code,
        s.is_backfilled,
        s.trained_digital_on <= s.as_of_date                                       as is_trained_digital,
        s.trained_logistics_on <= s.as_of_date                                     as is_trained_logistics,
        (l.first_shop_date <= s.as_of_date or l.first_purchase_date <= s.as_of_date) as is_converted,
        l.first_sale_after_training_date <= s.as_of_date                           as has_order_after_training
    from snapshot as s
    left join links as l using (household_code)
    {{ expand_scopes('s') }}
    where scopes.scope_code is not null and platforms.platform_scope = 'all' and s.is_sxnn

),

-- each household once per scope and date, with whether any of its rows meets each count's condition:
-- one aggregate, where six count(distinct) sorted the scoped rows six times (a national week:
-- 10 s instead of 28 s). count(distinct x) filter (where p) = the households with p on some row.
per_household as (

    select
        scope_level, scope_code, map_version, as_of_date, household_code,
        bool_or(not is_backfilled)                                                 as is_digitized,
        bool_or(is_trained_digital)                                                as is_trained_digital,
        bool_or(is_trained_logistics)                                              as is_trained_logistics,
        bool_or(is_converted and not is_backfilled)                                as is_converted,
        bool_or(is_trained_digital or is_trained_logistics)                        as is_trained_any,
        bool_or(has_order_after_training and (is_trained_digital or is_trained_logistics)) as is_trained_with_order
    from scoped
    group by 1, 2, 3, 4, 5

),

levels as (

    select
        scope_level, scope_code, map_version, as_of_date,
        count(household_code) filter (where is_digitized)          as hh_digitized,
        count(household_code) filter (where is_trained_digital)    as hh_trained_digital,
        count(household_code) filter (where is_trained_logistics)  as hh_trained_logistics,
        count(household_code) filter (where is_converted)          as hh_converted,
        count(household_code) filter (where is_trained_any)        as hh_trained_any,
        count(household_code) filter (where is_trained_with_order) as hh_trained_with_order
    from per_household
    group by 1, 2, 3, 4

)

select scope_level, scope_code, map_version, 'all'::text as platform, as_of_date,
       indicator_code, running_value::numeric as running_value
from levels
cross join lateral (values
    ('hh_digitized', hh_digitized),
    ('hh_trained_digital', hh_trained_digital),
    ('hh_trained_logistics', hh_trained_logistics),
    ('_hh_converted', hh_converted),
    ('_hh_trained_any', hh_trained_any),
    ('_hh_trained_with_order', hh_trained_with_order)
) as v (indicator_code, running_value)
