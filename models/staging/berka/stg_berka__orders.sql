with

source as (

    select * from {{ source('berka', 'orders') }}

),

renamed as (

    select
        cast(order_id as bigint) as order_id,
        cast(account_id as bigint) as account_id,
        nullif(partner_bank, '') as partner_bank,
        nullif(partner_account, '') as partner_account,
        try_cast(amount as decimal(18, 2)) as amount_czk,
        nullif(purpose, '') as purpose
    from source

)

select * from renamed
