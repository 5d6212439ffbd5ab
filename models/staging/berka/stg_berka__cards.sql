with

source as (

    select * from {{ source('berka', 'cards') }}

),

renamed as (

    select
        cast(card_id as bigint) as card_id,
        cast(disposition_id as bigint) as disposition_id,
        card_type,
        to_date(issued_date) as issued_date
    from source

)

select * from renamed
