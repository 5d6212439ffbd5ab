-- Accounts with their owner, branch and region: the shared lookup for marts and features.
with

accounts as (

    select * from {{ core_ref('accounts') }}

),

customers as (

    select * from {{ core_ref('customers') }}

),

branches as (

    select * from {{ core_ref('branches') }}

),

regions as (

    select * from {{ core_ref('regions') }}

),

joined as (

    select
        accounts.account_id,
        accounts.customer_id,
        accounts.branch_id,
        branches.region_id,
        regions.region_name,
        accounts.account_number,
        accounts.account_type,
        accounts.currency_code,
        accounts.opened_date,
        accounts.opening_balance_czk,
        customers.segment,
        customers.income_band,
        customers.birth_date
    from accounts
    left join customers on accounts.customer_id = customers.customer_id
    left join branches on accounts.branch_id = branches.branch_id
    left join regions on branches.region_id = regions.region_id

)

select * from joined
