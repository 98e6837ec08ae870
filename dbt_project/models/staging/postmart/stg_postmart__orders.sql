{#- One row per order VERSION as delivered (an order whose status changes is repeated in a later
    extract); picking the latest version happens in intermediate (int_platforms__orders). -#}
with

source as (

    {{ delivered(source('postmart', 'postmart_orders')) }}

),

renamed as (

    select
        'postmart'::text                                   as platform,
        trim(order_id)                               as order_id,
        {{ parse_local_timestamp('ordered_at') }}                      as ordered_at,
        trim(shop_id)                                as shop_id,
        nullif(trim(buyer_account_id), '')           as buyer_account_id,
        nullif(trim(buyer_phone_hash), '')           as buyer_phone_hash,
        nullif(trim(product_id), '')                 as product_id,
        {{ parse_vn_number('quantity') }}            as quantity,
        {{ parse_vn_number('weight_kg') }}                                           as weight_kg,
        trim_scale({{ parse_vn_number('weight_kg') }} / 1000.0)                              as weight_t,
        {{ parse_vn_number('amount_vnd') }}          as amount_vnd,
        {{ pad_code('buyer_province_code', 2) }}     as buyer_province_code,
        upper(nullif(trim(buyer_country), ''))       as buyer_country,
        {{ normalise_order_status('status') }}       as order_status,
        {{ parse_local_timestamp('updated_at') }}                      as updated_at,
        extract_date,
        file_id,
        row_number,
        arrived_at                                   -- of the delivery (raw.landed_files)

    from source

)

select * from renamed
