-- One row per loan: the applicant's behaviour in the {{ var('feature_lookback_days') }} days
-- before the application date, and nothing from that day or later (point-in-time correct).
with

loans as (

    select * from {{ ref('fct_loans') }}

),

transactions as (

    select * from {{ ref('fct_transactions') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

accounts as (

    select * from {{ ref('dim_accounts') }}

),

history as (

    select
        loans.loan_id,
        transactions.transaction_at,
        transactions.direction,
        transactions.channel,
        transactions.merchant_category,
        transactions.is_foreign,
        cast(transactions.amount_czk as double) as amount_czk,
        cast(transactions.balance_after_czk as double) as balance_after_czk
    from loans
    inner join transactions
        on loans.account_id = transactions.account_id
            and loans.application_date > transactions.transaction_date
            and transactions.transaction_date
            >= date_sub(loans.application_date, {{ var('feature_lookback_days') }})

),

behaviour as (

    select
        loan_id,
        count(*) as txn_count,
        sum(case when direction = 'credit' then amount_czk else 0 end) as credit_amount,
        sum(case when direction = 'debit' then amount_czk else 0 end) as debit_amount,
        avg(case when channel = 'atm' then 1.0 else 0.0 end) as atm_share,
        avg(case when merchant_category = 'gambling' then 1.0 else 0.0 end) as gambling_share,
        avg(case when is_foreign then 1.0 else 0.0 end) as foreign_share,
        min(balance_after_czk) as min_balance,
        avg(balance_after_czk) as avg_balance,
        avg(case when balance_after_czk < 0 then 1.0 else 0.0 end) as negative_balance_share,
        max_by(balance_after_czk, transaction_at) as last_balance
    from history
    group by loan_id

),

final as (

    select
        loans.loan_id,
        loans.customer_id,
        loans.application_date,
        cast(loans.amount_czk as double) as loan_amount_czk,
        loans.term_months,
        loans.interest_rate,
        cast(loans.monthly_payment_czk as double) as monthly_payment_czk,
        floor(months_between(loans.application_date, customers.birth_date) / 12) as age_at_application,
        datediff(loans.application_date, accounts.opened_date) as account_age_days,
        customers.segment,
        customers.income_band,
        coalesce(behaviour.txn_count, 0) as txn_count_lookback,
        coalesce(behaviour.credit_amount, 0) as credit_amount_lookback,
        coalesce(behaviour.debit_amount, 0) as debit_amount_lookback,
        coalesce(behaviour.credit_amount, 0) - coalesce(behaviour.debit_amount, 0) as net_flow_lookback,
        behaviour.atm_share,
        behaviour.gambling_share,
        behaviour.foreign_share,
        behaviour.min_balance,
        behaviour.avg_balance,
        behaviour.negative_balance_share,
        behaviour.last_balance,
        cast(loans.monthly_payment_czk as double)
        / nullif(behaviour.credit_amount / ({{ var('feature_lookback_days') }} / 30.0), 0)
            as payment_to_income_ratio,
        cast(loans.is_default as int) as is_default
    from loans
    left join behaviour on loans.loan_id = behaviour.loan_id
    left join customers on loans.customer_id = customers.customer_id
    left join accounts on loans.account_id = accounts.account_id

)

select * from final
