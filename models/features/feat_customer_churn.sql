{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['feature_month'],
        on_schema_change='fail',
    )
}}

-- One row per customer and active month: that month's behaviour, the trend against the previous
-- active month, and the label: no posting by the customer in the
-- {{ var('churn_inactivity_days') }} days after the month end. The label is NULL while that
-- window is not fully observed (the rows to score).
--
-- Incremental by month. A row can change only if its month is one feat_customer_monthly
-- recomputes, if a new posting falls in its label window (the month ends at most
-- {{ var('churn_inactivity_days') }} days before the first new day), or if its label is still
-- NULL; later months follow from those. A run rewrites every month from the first such one,
-- taking the previous active month and the count of active months before it from the rows it
-- keeps, so it gives what a full refresh gives while a daily run rewrites about three months
-- instead of all of them.

{%- set inactivity_days = var('churn_inactivity_days') %}
{%- set processed_through = high_water_mark('source_loaded_at', default='1970-01-01 00:00:00') %}
{%- set from_month = first_affected_month(
    ref('fct_transaction_loads'), 'transaction_date', processed_through
) %}
{%- if execute and is_incremental() %}
    {%- set first_changed -%}
        select cast(least(
            trunc(date_sub(date'{{ from_month }}', {{ inactivity_days }}), 'MM'),
            coalesce(min(case when is_churned is null then feature_month end), date'9999-12-31')
        ) as string)
        from {{ this }}
    {%- endset %}
    {%- set from_month = run_query(first_changed).columns[0].values()[0] %}
{%- endif %}

with

feature_months as (

    select * from {{ ref('feat_customer_monthly') }}
    where feature_month >= '{{ from_month }}'

),

{% if is_incremental() %}
    -- Each customer's last kept row before from_month: the previous active month of the
    -- customer's first recomputed row, and how many active months came before.
    earlier as (

        select
            customer_id,
            max(feature_month) as feature_month,
            max_by(txn_count, feature_month) as txn_count,
            max(active_months_to_date) as active_months_to_date
        from {{ this }}
        where feature_month < '{{ from_month }}'
        group by customer_id

    ),
{% endif %}

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

-- The latest month lies on or after from_month, so its rows give the last observed day.
observed as (

    select max(last_activity_date) as observed_through
    from feature_months

),

trends as (

    select
        *,
        lag(txn_count) over customer_months as previous_txn_count,
        lag(feature_month) over customer_months as previous_month,
        count(*) over (
            partition by customer_id
            order by feature_month
            rows between unbounded preceding and current row
        ) as active_months_since_from
    from monthly
    window customer_months as (partition by customer_id order by feature_month)

),

final as (

    select
        trends.customer_id,
        last_day(trends.feature_month) as month_end_date,
        trends.txn_count,
        trends.debit_amount,
        trends.credit_amount,
        trends.net_flow,
        trends.atm_share,
        trends.digital_share,
        trends.gambling_share,
        trends.foreign_txn_count,
        trends.distinct_channels,
        trends.distinct_categories,
        trends.active_days,
        trends.month_end_balance,
        datediff(last_day(trends.feature_month), trends.last_activity_date)
            as days_since_last_activity,
        {% if is_incremental() -%}
            trends.txn_count - coalesce(trends.previous_txn_count, earlier.txn_count)
                as txn_count_change,
            months_between(
                trends.feature_month, coalesce(trends.previous_month, earlier.feature_month)
            ) as months_since_previous_activity,
            trends.active_months_since_from + coalesce(earlier.active_months_to_date, 0)
                as active_months_to_date,
        {%- else -%}
            trends.txn_count - trends.previous_txn_count as txn_count_change,
            months_between(trends.feature_month, trends.previous_month)
                as months_since_previous_activity,
            trends.active_months_since_from as active_months_to_date,
        {%- endif %}
        case
            when date_add(last_day(trends.feature_month), {{ inactivity_days }})
                > observed.observed_through
                then null
            when trends.next_transaction_date is null then 1
            when datediff(trends.next_transaction_date, last_day(trends.feature_month))
                > {{ inactivity_days }}
                then 1
            else 0
        end as is_churned,
        trends.source_loaded_at,
        trends.feature_month
    from trends
    cross join observed
    {% if is_incremental() -%}
        left join earlier on trends.customer_id = earlier.customer_id
    {%- endif %}

)

select * from final
