-- Transactions for BI tools: private counterparties (other people's accounts) masked; merchants,
-- ATMs, employers and branches stay readable. A view over fct_transactions (the bi layer's
-- default): a copy of every transaction cost more build time than the one query it sped up.

with

transactions as (

    select * from {{ ref('fct_transactions') }}

),

final as (

    select
        transaction_id,
        account_id,
        customer_id,
        branch_id,
        region_id,
        transaction_at,
        transaction_date,
        amount,
        currency_code,
        amount_czk,
        direction,
        signed_amount_czk,
        channel,
        merchant_category,
        case
            when counterparty like 'CZ-ACC-%' then {{ mask_account_number('counterparty') }}
            else counterparty
        end as counterparty,
        country_code,
        is_foreign,
        balance_after_czk,
        loaded_at
    from transactions

)

select * from final
