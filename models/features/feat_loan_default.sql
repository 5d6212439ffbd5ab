-- One row per loan, the training and scoring set of the loan-default model: the applicant's
-- behaviour in the {{ var('feature_lookback_days') }} days before the application date
-- (feat_loan_behaviour, point-in-time correct), age and account age at application, segment,
-- the loan's terms and the label. A table: the loans' status and the customers change in place,
-- and joining a few thousand loans to their behaviour is cheap.
with

loans as (

    select * from {{ ref('fct_loans') }}

),

behaviour as (

    select * from {{ ref('feat_loan_behaviour') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

accounts as (

    select * from {{ ref('dim_accounts') }}

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
    -- a loan whose account or application date changed has its old row left in an application
    -- month that feat_loan_behaviour did not recompute: match all three
    left join behaviour
        on loans.loan_id = behaviour.loan_id
            and loans.account_id = behaviour.account_id
            and loans.application_date = behaviour.application_date
    left join customers on loans.customer_id = customers.customer_id
    left join accounts on loans.account_id = accounts.account_id

)

select * from final
