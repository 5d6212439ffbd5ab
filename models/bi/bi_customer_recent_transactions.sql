{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['customer_bucket'],
        on_schema_change='fail',
    )
}}

-- Each customer's latest transactions (var bi_recent_transactions, 50), newest first, with the
-- columns a customer page in a BI tool shows (amounts in CZK): a lookup by customer_id reads one
-- bucket's rows instead of every day of fct_transactions. A run re-ranks the customers with new
-- transactions from the rows kept for them plus the new ones. Spark overwrites a table it reads
-- only partition by partition, hence customer_bucket (customer_id mod 8): a run rewrites the
-- buckets its customers fall in.
--
-- customer_id is decimal(12, 0) here, not bigint as elsewhere: Spark writes a bigint literal into
-- the Java code it generates and compiles for a query, so every customer's lookup (`where
-- customer_id = 123`) compiled new classes, while a decimal literal is passed to the compiled
-- code as a value and the code of the previous lookup is reused. Measured with 8 BI clients:
-- ~40 % more lookups a second. Comparisons and joins with bigint keys work unchanged.

{%- set keep = var('bi_recent_transactions') %}
{%- set processed_through = high_water_mark('loaded_at', default='1970-01-01 00:00:00') %}
{%- set new_days = new_batch_dates(
    ref('fct_transaction_loads'), 'transaction_date', processed_through, 'loaded_at'
) %}
{%- set columns = [
    'customer_id', 'transaction_id', 'account_id', 'transaction_at', 'amount_czk', 'direction',
    'channel', 'merchant_category', 'counterparty', 'country_code', 'balance_after_czk',
    'loaded_at',
] %}

with

new_transactions as (

    select {{ columns | join(', ') }}
    from {{ ref('bi_transactions') }}
    where loaded_at > '{{ processed_through }}'
    {% if is_incremental() -%}
        -- the days the new rows fall on: a filter on loaded_at alone opens every day's file
        and {{ among_days('transaction_date', new_days) }}
    {%- endif %}

),

{% if is_incremental() %}
    -- customer_id back to bigint: a union with the new rows' bigint would make it decimal(20, 0),
    -- too wide for a long, and ranking by it sorted Java BigDecimals (the query alone: 13 s
    -- instead of 8 s at 10M).
    kept as (

        select cast(customer_id as bigint) as customer_id, {{ columns[1:] | join(', ') }}
        from {{ this }}
        where customer_bucket in (
            select distinct pmod(new_transactions.customer_id, 8) from new_transactions
        )

    ),

    -- A day's transactions touch every bucket, so a run re-ranks all the kept rows: one shuffle
    -- by bucket feeds both the ranking and the write, whose order the ranking's sort already
    -- gives (measured at 10M, the query alone: 10-14 s instead of 14-17 s).
    candidates as (

        select
            *,
            cast(pmod(customer_id, 8) as bigint) as customer_bucket
        from (
            select * from new_transactions
            union all
            select * from kept
        )
        distribute by customer_bucket

    ),
{% else %}
    -- A full build ranks all transactions: shuffled by customer, each task first keeps 50 rows
    -- per customer (Spark's window group limit), so only those are shuffled again by bucket.
    candidates as (

        select
            *,
            cast(pmod(customer_id, 8) as bigint) as customer_bucket
        from new_transactions

    ),
{% endif %}

-- A full build partitions the ranking by customer_id alone (the same groups: the bucket is a
-- function of the customer): its sort then compares most rows by a bigint prefix, where a leading
-- customer_bucket (8 values) left nearly every comparison to the whole key. The full-build query
-- alone at 10M, alternating in one warm session: 18.1-20.0 s before, 16.4-16.9 s (the same rows).
-- An incremental run keeps the bucket in the key, so its shuffle by bucket serves the window.
ranked as (

    select
        *,
        row_number() over (
            partition by {% if is_incremental() %}customer_bucket, {% endif %}customer_id
            order by transaction_at desc, transaction_id desc
        ) as recency_rank
    from candidates

),

-- One file per bucket, sorted by customer: a lookup reads only the pages (20,000 rows each) that
-- hold its customer. The sort starts with the partition column, so the write keeps it, and it
-- is the ranking's order, so after an incremental run's shuffle no second sort is needed.
latest as (

    select * from ranked
    where recency_rank <= {{ keep }}
    {% if not is_incremental() -%}
        distribute by customer_bucket
    {% endif -%}
    sort by customer_bucket, customer_id, transaction_at desc, transaction_id desc

),

final as (

    select
        cast(customer_id as decimal(12, 0)) as customer_id,
        {{ columns[1:] | join(', ') }},
        recency_rank,
        customer_bucket
    from latest

)

select * from final
