{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['application_month'],
        on_schema_change='fail',
    )
}}

-- One row per loan: the applicant's account behaviour in the {{ var('feature_lookback_days') }}
-- days before the application date, and nothing from that day or later (point-in-time correct).
-- feat_loan_default adds the loan's terms, the customer and the label.
--
-- Incremental because a loan's window only changes when postings dated before its application
-- date arrive: a run recomputes the application months of the loans that new postings can reach
-- (applied for after the earliest new posting's date) and of loans it has not seen with this
-- account and application date, reading only the fact partitions their windows cover. A day's
-- batch reaches only loans applied for after it (the generator has two, after its last day: each
-- run recomputes their month from 180 days of facts). `facts_loaded_through` is the newest
-- `loaded_at` among the postings a run read: the high-water mark of the next run.

{%- set lookback_days = var('feature_lookback_days') %}
{%- set loaded_through = high_water_mark('facts_loaded_through', default='1970-01-01 00:00:00') %}
{#- Outside the `execute` block on purpose: dbt records a model's dependencies while parsing,
    when `execute` is false, and this model must run after the ledger. -#}
{%- set loads = ref('fct_transaction_loads') %}
{%- if execute and is_incremental() %}
    {%- set new_days = new_batch_dates(loads, 'transaction_date', loaded_through, 'loaded_at') %}
    {%- set reached = "or loans.application_date > '" ~ new_days[0] ~ "'" if new_days else '' %}
    {%- set affected -%}
        select cast(min(loans.application_date) as string)
        from {{ ref('fct_loans') }} as loans
        left join {{ this }} as kept
            on loans.loan_id = kept.loan_id
                and loans.account_id = kept.account_id
                and loans.application_date = kept.application_date
        where kept.loan_id is null {{ reached }}
    {%- endset %}
    {%- set first_affected = run_query(affected).columns[0].values()[0] %}
    {%- set from_month = first_affected[:7] ~ '-01' if first_affected else '9999-12-01' %}
{%- endif %}

with

loans as (

    select * from {{ ref('fct_loans') }}
    {% if is_incremental() -%}
        where application_date >= '{{ from_month }}'
    {%- endif %}

),

transactions as (

    select * from {{ ref('fct_transactions') }}
    {% if is_incremental() -%}
        where transaction_date >= date_sub(date'{{ from_month }}', {{ lookback_days }})
    {%- endif %}

),

history as (

    select
        loans.loan_id,
        transactions.transaction_at,
        transactions.direction,
        transactions.channel,
        transactions.merchant_category,
        transactions.is_foreign,
        transactions.transaction_id,
        transactions.amount_czk,
        transactions.balance_after_czk
    from loans
    inner join transactions
        on loans.account_id = transactions.account_id
            and loans.application_date > transactions.transaction_date
            and transactions.transaction_date
            >= date_sub(loans.application_date, {{ lookback_days }})

),

-- Exact sums (cents_sum) and means of the decimal amounts, as doubles at the end: a double sum
-- depends on the order Spark adds the rows in, which differs between a run that reads a few months and a full
-- refresh; the latest balance breaks ties by transaction id. So a run gives what a full
-- refresh gives, to the bit.
behaviour as (

    select
        loan_id,
        count(*) as txn_count,
        {{ cents_sum("case when direction = 'credit' then amount_czk else 0 end") }}
            as credit_amount,
        {{ cents_sum("case when direction = 'debit' then amount_czk else 0 end") }}
            as debit_amount,
        avg(case when channel = 'atm' then 1.0 else 0.0 end) as atm_share,
        avg(case when merchant_category = 'gambling' then 1.0 else 0.0 end) as gambling_share,
        avg(case when is_foreign then 1.0 else 0.0 end) as foreign_share,
        cast(min(balance_after_czk) as double) as min_balance,
        cast(avg(balance_after_czk) as double) as avg_balance,
        avg(case when balance_after_czk < 0 then 1.0 else 0.0 end) as negative_balance_share,
        cast(max_by(balance_after_czk, struct(transaction_at, transaction_id)) as double)
            as last_balance
    from history
    group by loan_id

),

final as (

    select
        loans.loan_id,
        loans.account_id,
        loans.application_date,
        behaviour.txn_count,
        behaviour.credit_amount,
        behaviour.debit_amount,
        behaviour.atm_share,
        behaviour.gambling_share,
        behaviour.foreign_share,
        behaviour.min_balance,
        behaviour.avg_balance,
        behaviour.negative_balance_share,
        behaviour.last_balance,
        (select max(transactions.loaded_at) from transactions) as facts_loaded_through,
        trunc(loans.application_date, 'MM') as application_month
    from loans
    left join behaviour on loans.loan_id = behaviour.loan_id

)

select * from final
