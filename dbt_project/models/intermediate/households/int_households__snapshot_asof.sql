{#- The households counted at each as-of date: per reporting unit its latest register snapshot on or
    before the date, among the units of the map in force on that date (a post-reform date counts
    post-reform communes' snapshots only, so households re-registered after the reform are not
    counted twice). Before a unit's first snapshot, that first snapshot stands in for it
    (is_backfilled): training dates are history, so II.1/II.2 of earlier weeks still count the
    households trained by then; hh_digitized counts current snapshots only. -#}
with

dates as (select * from {{ ref('int_calendar__asof_dates') }}),
register as (select * from {{ ref('int_households__register') }}),

files as (

    select distinct file_id, unit_code, map_version, snapshot_date
    from register

),

candidates as (

    select d.as_of_date, f.*, f.snapshot_date <= d.as_of_date as is_current
    from dates as d
    join files as f on f.map_version = {{ map_version_for('d.as_of_date') }}

),

latest_file as (

    select distinct on (as_of_date, map_version, unit_code)
        as_of_date,
        file_id,
        not is_current as is_backfilled
    from candidates
    order by as_of_date, map_version, unit_code, is_current desc,
             case when is_current then snapshot_date end desc nulls last, snapshot_date, file_id desc

)

select
    l.as_of_date,
    r.household_code,
    r.unit_code,
    r.map_version,
    r.province_code,
    r.current_province_code,
    r.region_code,
    r.is_sxnn,
    l.is_backfilled,
    r.trained_digital_on,
    r.trained_logistics_on
from latest_file as l
join register as r on r.file_id = l.file_id
