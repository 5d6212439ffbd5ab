with

source as (

    select * from {{ source('core', 'accounts') }}

),

renamed as (

    select
        cast(account_id as bigint) as account_id,
        cast(customer_id as bigint) as customer_id,
        cast(branch_id as int) as branch_id,
        account_number,
        lower(account_type) as account_type,
        upper(currency) as currency_code,
        to_date(opened_date) as opened_date,
        cast(opening_balance as decimal(18, 2)) as opening_balance_czk
    from source

)

select * from renamed
