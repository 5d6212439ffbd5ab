-- One row per transaction: the transaction and how far it departs from its own account's
-- recent profile (amount against the previous {{ var('anomaly_profile_days') }} days, postings in
-- the preceding minutes, time since the previous posting), with the confirmed-anomaly label.
-- Only earlier postings of the account feed each row's profile.
with

transactions as (

    select * from {{ ref('fct_transactions') }}

),

labels as (

    select * from {{ ref('stg_fraud__anomaly_labels') }}

),

profiled as (

    select
        transaction_id,
        account_id,
        transaction_at,
        transaction_date,
        direction,
        channel,
        merchant_category,
        cast(is_foreign as int) as is_foreign,
        cast(amount_czk as double) as amount_czk,
        hour(transaction_at) as hour_of_day,
        avg(cast(amount_czk as double)) over profile_window as profile_mean_amount,
        stddev_pop(cast(amount_czk as double)) over profile_window as profile_stddev_amount,
        max(cast(amount_czk as double)) over profile_window as profile_max_amount,
        avg(cast(is_foreign as int)) over profile_window as profile_foreign_share,
        count(*) over profile_window as profile_txn_count,
        count(*) over burst_window as txn_count_prev_10_min,
        unix_timestamp(transaction_at)
        - lag(unix_timestamp(transaction_at)) over (
            partition by account_id order by transaction_at, transaction_id
        ) as seconds_since_previous
    from transactions
    window
        profile_window as (
            partition by account_id
            order by unix_timestamp(transaction_at)
            range between {{ var('anomaly_profile_days') * 86400 }} preceding and 1 preceding
        ),
        burst_window as (
            partition by account_id
            order by unix_timestamp(transaction_at)
            range between 600 preceding and 1 preceding
        )

),

final as (

    select
        profiled.transaction_id,
        profiled.account_id,
        profiled.transaction_at,
        profiled.transaction_date,
        profiled.direction,
        profiled.channel,
        profiled.merchant_category,
        profiled.is_foreign,
        profiled.amount_czk,
        profiled.hour_of_day,
        profiled.amount_czk / nullif(profiled.profile_mean_amount, 0) as amount_to_profile_mean,
        (profiled.amount_czk - profiled.profile_mean_amount)
        / nullif(profiled.profile_stddev_amount, 0) as amount_zscore,
        profiled.amount_czk / nullif(profiled.profile_max_amount, 0) as amount_to_profile_max,
        profiled.profile_foreign_share,
        profiled.profile_txn_count,
        profiled.txn_count_prev_10_min,
        profiled.seconds_since_previous,
        case when labels.transaction_id is not null then 1 else 0 end as is_anomaly
    from profiled
    left join labels on profiled.transaction_id = labels.transaction_id

)

select * from final
