with

source as (

    select * from {{ source('postmart', 'postmart_activity') }}

),

renamed as (

    select
        'postmart'::text                                   as platform,
        trim(account_id)                             as account_id,
        {{ parse_local_timestamp('occurred_at') }}                     as occurred_at,
        case lower(normalize(trim(activity_type), NFC))
            when 'đăng sp' then 'post_product'
            when 'post_product' then 'post_product'
            when 'tìm kiếm' then 'search'
            when 'search' then 'search'
            when 'nhắn tin' then 'message'
            when 'message' then 'message'
            when 'giao dịch' then 'transaction'
            when 'transaction' then 'transaction'
            else lower(trim(activity_type))
        end                                          as activity_type,
        {{ pad_code('commune_code', 5) }}            as commune_code,
        extract_date,
        file_id,
        row_number

    from source

)

select * from renamed
