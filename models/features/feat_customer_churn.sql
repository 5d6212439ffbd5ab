-- One row per customer and active month: that month's behaviour, the trend against the previous
-- active month, and the label: no posting by the customer in the
-- {{ var('churn_inactivity_days') }} days after the month end. The label is NULL while that
-- window is not fully observed (the rows to score).

with

feature_months as (

    select * from {{ ref('feat_customer_monthly') }}

),

-- The customer's next own posting after each active month: the first own posting of the
-- nearest later month that has one (the bank's interest and fees do not show that the customer
-- is still there). A running min over the later months, which Spark computes in one pass, on
-- the rows themselves: the windows below reuse its shuffle by customer (joined back, it cost a
-- second read and shuffle of every row).
monthly as (

    select
        *,
        min(first_own_posting_date) over (
            partition by customer_id
            order by feature_month desc
            rows between unbounded preceding and 1 preceding
        ) as next_transaction_date
    from feature_months

),

observed as (

    select max(last_activity_date) as observed_through
    from feature_months

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
            when monthly.next_transaction_date is null then 1
            when datediff(monthly.next_transaction_date, last_day(monthly.feature_month))
                > {{ var('churn_inactivity_days') }}
                then 1
            else 0
        end as is_churned
    from monthly
    cross join observed
    window customer_months as (partition by monthly.customer_id order by monthly.feature_month)

)

select * from final
