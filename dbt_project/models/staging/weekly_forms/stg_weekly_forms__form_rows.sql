with

source as (

    {{ delivered(source('weekly_forms', 'weekly_form_rows')) }}

),

renamed as (

    select
        file_id,
        row_number,
        tt,
        section,
        indicator_code,
        label,
        unit_label,
        value_in_week,            -- NULL = not reported (never 0)
        growth_pct,
        cumulative_value,
        completion_pct,
        notes

    from source

)

select * from renamed
