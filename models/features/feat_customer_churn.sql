-- One row per customer and active month: that month's behaviour, the trend against the previous
-- active month, and the label: no posting in the {{ var('churn_inactivity_days') }} days after
-- the month end. The label is NULL while that window is not fully observed (the rows to score).
with

monthly as (

    select * from {{ ref('feat_customer_monthly') }}

),

transactions as (

    select * from {{ ref('fct_transactions') }}

),

activity_days as (

    select distinct
        customer_id,
        transaction_date
    from transactions

),

next_activity as (

    select
        customer_id,
        transaction_date,
        lead(transaction_date) over (partition by customer_id order by transaction_date)
            as next_transaction_date
    from activity_days

),

observed as (

    select max(transaction_date) as observed_through
    from activity_days

),

final as (

    select
        monthly.customer_id,
        monthly.feature_month,
        last_day(monthly.feature_month) as month_end_date,
        monthly.txn_count,
        monthly.debit_amount,
        monthly.credit_amount,
        monthly.net_flow,
        monthly.atm_share,
        monthly.digital_share,
        monthly.gambling_share,
        monthly.foreign_txn_count,
        monthly.distinct_channels,
        monthly.distinct_categories,
        monthly.active_days,
        monthly.month_end_balance,
        datediff(last_day(monthly.feature_month), monthly.last_activity_date)
            as days_since_last_activity,
        monthly.txn_count - lag(monthly.txn_count) over customer_months as txn_count_change,
        months_between(
            monthly.feature_month, lag(monthly.feature_month) over customer_months
        ) as months_since_previous_activity,
        count(*) over (
            partition by monthly.customer_id
            order by monthly.feature_month
            rows between unbounded preceding and current row
        ) as active_months_to_date,
        case
            when date_add(last_day(monthly.feature_month), {{ var('churn_inactivity_days') }})
                > observed.observed_through
                then null
            when next_activity.next_transaction_date is null then 1
            when datediff(next_activity.next_transaction_date, last_day(monthly.feature_month))
                > {{ var('churn_inactivity_days') }}
                then 1
            else 0
        end as is_churned
    from monthly
    inner join next_activity
        on monthly.customer_id = next_activity.customer_id
            and monthly.last_activity_date = next_activity.transaction_date
    cross join observed
    window customer_months as (partition by monthly.customer_id order by monthly.feature_month)

)

select * from final
