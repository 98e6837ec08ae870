with

source as (

    {{ delivered(source('postmart', 'postmart_products')) }}

),

renamed as (

    select
        'postmart'::text                                   as platform,
        trim(product_id)                             as product_id,
        trim(shop_id)                                as shop_id,
        product_name,
        {{ normalise_product_group('product_group') }} as product_group,
        nullif(trim(product_type), '')               as product_type,
        coalesce({{ parse_vn_number('ocop_stars') }}, 0)::integer as ocop_stars,
        coalesce({{ parse_bool('traceable') }}, false)          as is_traceable,
        coalesce({{ parse_bool('brand_marked') }}, false)       as is_brand_marked,
        coalesce({{ parse_bool('household_discount') }}, false) as has_household_discount,
        {{ parse_local_timestamp('listed_at') }}                       as listed_at,
        extract_date,
        file_id,
        row_number,
        arrived_at                                   -- of the delivery (raw.landed_files)

    from source

)

select * from renamed
