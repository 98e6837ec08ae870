with

source as (

    {{ delivered(source('household_register', 'household_register_snapshots')) }}

),

renamed as (

    select
        file_id,
        row_number,
        trim(unit_code)                                   as unit_code,
        snapshot_date,
        {{ map_version_for('snapshot_date') }}            as map_version,
        trim(household_code)                              as household_code,
        nullif(trim(phone_hash), '')                      as phone_hash,
        nullif(trim(citizen_id_hash), '')                 as citizen_id_hash,
        {{ pad_code('commune_code', 5) }}                 as commune_code,
        household_type,
        main_product,
        trained_digital_on,
        trained_logistics_on,
        training_level

    from source

)

select * from renamed
