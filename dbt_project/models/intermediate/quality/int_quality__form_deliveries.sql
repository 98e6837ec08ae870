{#- Every accepted weekly form per reporting unit and week, summarised: first / last arrival
    (raw.landed_files.arrived_at = file mtime in the landing folder), number of versions, the winning
    (latest) file. One row per map_version x unit_code x week_key that sent at least one form. -#}
with

forms as (select * from {{ ref('stg_weekly_forms__forms') }}),

ranked as (

    select
        forms.*,
        row_number() over (partition by map_version, unit_code, week_key
                           order by received_at desc, file_id desc) as version_desc
    from forms

)

select
    map_version,
    unit_code,
    week_key,
    min(week_start)                                            as week_start,
    min(received_at)                                           as first_received_at,
    max(received_at)                                           as last_received_at,
    count(*)::integer                                          as forms_received,
    max(file_id) filter (where version_desc = 1)               as latest_file_id,
    count(*) filter (where version_desc = 1)::integer          as winning_forms
from ranked
group by 1, 2, 3
