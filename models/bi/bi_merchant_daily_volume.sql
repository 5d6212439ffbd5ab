{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['transaction_date'],
        on_schema_change='fail',
    )
}}

-- Card spending per merchant and day, for "top merchants" views in BI tools: about two thousand
-- rows a day instead of every transaction. Incremental by day: a run recomputes the days that
-- newly loaded transactions fall on.

{%- set processed_through = high_water_mark('source_loaded_at', default='1970-01-01 00:00:00') %}
{%- set new_days = new_batch_dates(
    ref('fct_transactions'), 'transaction_date', processed_through, batch_column='loaded_at'
) %}

with

transactions as (

    select * from {{ ref('bi_transactions') }}
    where counterparty like 'M-%'
    {% if is_incremental() %}
        and transaction_date in ('{{ new_days | join("', '") if new_days else "9999-12-31" }}')
    {% endif %}

),

final as (

    select
        counterparty as merchant,
        merchant_category,
        cast(count(*) as bigint) as transaction_count,
        cast(sum(amount_czk) as decimal(18, 2)) as amount_czk,
        max(loaded_at) as source_loaded_at,
        transaction_date
    from transactions
    group by transaction_date, counterparty, merchant_category

)

-- One file per day.
select * from final
distribute by transaction_date
