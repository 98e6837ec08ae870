with

source as (

    {{ delivered(source('postmart', 'postmart_shops')) }}

),

renamed as (

    select
        'postmart'::text                                   as platform,
        trim(shop_id)                                as shop_id,
        nullif(trim(owner_phone_hash), '')           as owner_phone_hash,
        nullif(trim(household_code), '')             as household_code,
        {{ pad_code('commune_code', 5) }}            as commune_code,
        {{ parse_local_timestamp('created_at') }}                      as created_at,
        {{ parse_bool('has_epay') }}                 as has_epay,
        {{ normalise_shop_status('status') }}        as shop_status,
        extract_date,
        file_id,
        row_number,
        arrived_at                                   -- of the delivery (raw.landed_files)

    from source

)

select * from renamed
