{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['volume_month'],
        on_schema_change='fail',
    )
}}

-- Transaction volume per day, region and channel: the series the volume forecast learns from.
-- Incremental by month, like fct_daily_account_balances.

{%- set processed_through = high_water_mark('source_loaded_at', default='1970-01-01 00:00:00') %}
{%- set from_date = first_affected_month(
    ref('fct_transaction_loads'), 'transaction_date', processed_through
) %}

with

transactions as (

    select * from {{ ref('fct_transactions') }}
    where transaction_date >= '{{ from_date }}'

),

-- Distinct accounts without count(distinct): Spark grouped the postings by day, region, channel
-- and account (nearly one group per posting) before counting. Instead each group keeps an exact
-- bitmap of its account ids per bucket of 32,768 ids (Spark's bitmap functions), whose set bits
-- are summed over the buckets. The 10M-row query alone, in one warm session: 10.6-11.1 s with
-- count(distinct), 7.4-7.7 s this way (the same rows: exceptAll both ways 0).
by_account_bucket as (

    select
        transaction_date,
        region_id,
        channel,
        count(*) as transaction_count,
        sum({{ to_hellers('amount_czk') }}) as amount_hellers,
        sum(case when direction = 'debit' then {{ to_hellers('amount_czk') }} else 0 end)
            as debit_hellers,
        sum(case when direction = 'credit' then {{ to_hellers('amount_czk') }} else 0 end)
            as credit_hellers,
        bitmap_count(bitmap_construct_agg(bitmap_bit_position(account_id))) as account_count,
        max(loaded_at) as source_loaded_at
    from transactions
    group by transaction_date, region_id, channel, bitmap_bucket_number(account_id)

),

final as (

    select
        transaction_date as volume_date,
        region_id,
        channel,
        cast(sum(transaction_count) as bigint) as transaction_count,
        {{ hellers_to_czk('sum(amount_hellers)') }} as amount_czk,
        {{ hellers_to_czk('sum(debit_hellers)') }} as debit_amount_czk,
        {{ hellers_to_czk('sum(credit_hellers)') }} as credit_amount_czk,
        cast(sum(account_count) as bigint) as active_account_count,
        max(source_loaded_at) as source_loaded_at,
        trunc(transaction_date, 'MM') as volume_month
    from by_account_bucket
    group by transaction_date, region_id, channel

)

select * from final
