-- Accounts for BI tools: the account number masked to its first and last four characters.
with

accounts as (

    select * from {{ ref('dim_accounts') }}

),

final as (

    select
        account_id,
        customer_id,
        branch_id,
        region_id,
        {{ mask_account_number('account_number') }} as account_number_masked,
        account_type,
        currency_code,
        opened_date,
        opening_balance_czk,
        segment
    from accounts

)

select * from final
