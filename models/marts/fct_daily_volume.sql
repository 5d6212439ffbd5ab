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

final as (

    select
        transaction_date as volume_date,
        region_id,
        channel,
        cast(count(*) as bigint) as transaction_count,
        {{ czk_sum('amount_czk') }} as amount_czk,
        {{ czk_sum("case when direction = 'debit' then amount_czk else 0 end") }}
            as debit_amount_czk,
        {{ czk_sum("case when direction = 'credit' then amount_czk else 0 end") }}
            as credit_amount_czk,
        cast(count(distinct account_id) as bigint) as active_account_count,
        max(loaded_at) as source_loaded_at,
        trunc(transaction_date, 'MM') as volume_month
    from transactions
    group by transaction_date, region_id, channel

)

select * from final
