with

source as (

    select * from {{ source('berka', 'dispositions') }}

),

renamed as (

    select
        cast(disposition_id as bigint) as disposition_id,
        cast(client_id as bigint) as client_id,
        cast(account_id as bigint) as account_id,
        disposition_type
    from source

)

select * from renamed
