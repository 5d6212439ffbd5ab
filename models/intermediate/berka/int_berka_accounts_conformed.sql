-- The Czech bank's accounts in the shape of stg_core__accounts: the owner is the customer, the
-- district the branch. Every account is a CZK current account; the extract starts with each
-- account's first posting (its opening deposit), so the opening balance is zero.
with

accounts as (

    select * from {{ ref('stg_berka__accounts') }}

),

owners as (

    select * from {{ ref('stg_berka__dispositions') }}
    where disposition_type = 'owner'

),

final as (

    select
        accounts.account_id,
        owners.client_id as customer_id,
        accounts.district_id as branch_id,
        cast(null as string) as account_number,
        'current' as account_type,
        'CZK' as currency_code,
        accounts.opened_date,
        cast(0 as decimal(18, 2)) as opening_balance_czk
    from accounts
    left join owners on accounts.account_id = owners.account_id

)

select * from final
