with

source as (

    {{ delivered(source('postmart', 'postmart_activity')) }}

),

renamed as (

    select
        'postmart'::text                                   as platform,
        trim(account_id)                             as account_id,
        {{ parse_local_timestamp('occurred_at') }}                     as occurred_at,
        {{ normalise_activity_type('activity_type') }} as activity_type,
        {{ pad_code('commune_code', 5) }}            as commune_code,
        extract_date,
        file_id,
        row_number,
        arrived_at                                   -- of the delivery (raw.landed_files)

    from source

)

select * from renamed
