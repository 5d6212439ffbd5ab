with

source as (

    select * from {{ source('berka', 'clients') }}

),

renamed as (

    select
        cast(client_id as bigint) as client_id,
        to_date(birth_date) as birth_date,
        sex,
        cast(district_id as int) as district_id
    from source

)

select * from renamed
