with

source as (

    {{ delivered(source('voso', 'voso_info_posts')) }}

),

renamed as (

    select
        'voso'::text                                   as platform,
        trim(post_id)                                as post_id,
        nullif(trim(category), '')                   as category,
        {{ pad_code('province_code', 2) }}           as province_code,
        {{ parse_utc_timestamp('posted_at') }}                       as posted_at,
        extract_date,
        file_id,
        row_number,
        arrived_at                                   -- of the delivery (raw.landed_files)

    from source

)

select * from renamed
