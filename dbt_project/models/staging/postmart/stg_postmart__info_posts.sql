with

source as (

    select * from {{ source('postmart', 'postmart_info_posts') }}

),

renamed as (

    select
        'postmart'::text                                   as platform,
        trim(post_id)                                as post_id,
        nullif(trim(category), '')                   as category,
        {{ pad_code('province_code', 2) }}           as province_code,
        {{ parse_local_timestamp('posted_at') }}                       as posted_at,
        extract_date,
        file_id,
        row_number

    from source

)

select * from renamed
