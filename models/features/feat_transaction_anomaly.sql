{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['transaction_month'],
        on_schema_change='fail',
    )
}}

-- One row per transaction: the transaction and how far it departs from its own account's
-- recent profile (amount against the previous {{ var('anomaly_profile_days') }} days, postings in
-- the preceding minutes, seconds since the previous posting when that is within the profile
-- window), with the confirmed-anomaly label. Only earlier postings of the account feed each row.
-- Incremental by month: every month from the first one that new transactions or new labels
-- touch is recomputed, reading the {{ var('anomaly_profile_days') }} days before it as context,
-- which is all a row's windows see, so a run gives exactly what a full refresh gives.

{%- set profile_days = var('anomaly_profile_days') %}
{%- set loaded_through = high_water_mark('loaded_at', default='1970-01-01 00:00:00') %}
{%- set labelled_through = high_water_mark('labelled_at', default='1970-01-01 00:00:00') %}
{%- set from_month = first_affected_month(ref('fct_transactions'), 'transaction_date', loaded_through) %}
{%- if execute and is_incremental() %}
    {%- set relabelled -%}
        select cast(min(facts.transaction_date) as string)
        from {{ ref('fct_transactions') }} as facts
        left semi join {{ ref('stg_fraud__anomaly_labels') }} as labels
            on facts.transaction_id = labels.transaction_id
                and labels.labelled_at > '{{ labelled_through }}'
    {%- endset %}
    {%- set first_relabelled = run_query(relabelled).columns[0].values()[0] %}
    {%- if first_relabelled is not none %}
        {%- set from_month = [from_month, first_relabelled[:7] ~ '-01'] | min %}
    {%- endif %}
{%- endif %}

with

transactions as (

    select * from {{ ref('fct_transactions') }}
    {% if is_incremental() -%}
        where transaction_date >= date_sub(date'{{ from_month }}', {{ profile_days }})
    {%- endif %}

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
        -- the latest earlier second with a posting, as the stream computes it (one sort for all)
        unix_timestamp(transaction_at)
        - max(unix_timestamp(transaction_at)) over profile_window as seconds_since_previous,
        loaded_at
    from transactions
    window
        profile_window as (
            partition by account_id
            order by unix_timestamp(transaction_at)
            range between {{ profile_days * 86400 }} preceding and 1 preceding
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
        case when labels.transaction_id is not null then 1 else 0 end as is_anomaly,
        labels.labelled_at,
        profiled.loaded_at,
        trunc(profiled.transaction_date, 'MM') as transaction_month
    from profiled
    left join labels on profiled.transaction_id = labels.transaction_id
    {% if is_incremental() -%}
        where profiled.transaction_date >= '{{ from_month }}'
    {%- endif %}

)

select * from final
