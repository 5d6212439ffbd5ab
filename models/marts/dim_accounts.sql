with

accounts as (

    select * from {{ ref('int_accounts_joined') }}

),

final as (

    select
        account_id,
        customer_id,
        branch_id,
        region_id,
        account_number,
        account_type,
        currency_code,
        opened_date,
        opening_balance_czk,
        segment
    from accounts

)

select * from final
