with

source as (

    {{ delivered(source('weekly_forms', 'weekly_forms')) }}

),

renamed as (

    select
        file_id,
        trim(unit_code)          as unit_code,
        unit_name,
        map_version,
        week_key,
        week_start,
        week_end,
        received_at

    from source

)

select * from renamed
