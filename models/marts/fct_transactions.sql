{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['transaction_date'],
        on_schema_change='fail',
    )
}}

-- Accepted postings with their account's customer, branch and region; one partition per day.
-- A run adds the batches that landed since the last one. Partitions are replaced whole, so the
-- rows already loaded on a day that a new batch touches are carried over (late postings).

{%- set loaded_through = high_water_mark('batch_date') %}
{%- set new_days = new_batch_dates(
    ref('int_transactions_validated'), 'to_date(transaction_at)', loaded_through
) %}

with

validated as (

    select * from {{ ref('int_transactions_validated') }}
    where rejection_reason is null
        and batch_date > '{{ loaded_through }}'

),

accounts as (

    select * from {{ ref('int_accounts_joined') }}

),

new_rows as (

    select
        validated.transaction_id,
        validated.account_id,
        accounts.customer_id,
        accounts.branch_id,
        accounts.region_id,
        validated.transaction_at,
        validated.amount,
        validated.currency_code,
        validated.amount_czk,
        validated.direction,
        case when validated.direction = 'credit' then validated.amount_czk
            else -validated.amount_czk
        end as signed_amount_czk,
        validated.channel,
        validated.merchant_category,
        validated.counterparty,
        validated.country_code,
        validated.country_code != 'CZ' as is_foreign,
        validated.balance_after_czk,
        validated.batch_date,
        to_date(validated.transaction_at) as transaction_date
    from validated
    inner join accounts on validated.account_id = accounts.account_id

),

{% if is_incremental() %}
    carried_over as (

        select * from {{ this }}
        where transaction_date in ('{{ new_days | join("', '") if new_days else "9999-12-31" }}')

    ),
{% endif %}

final as (

    select * from new_rows
    {% if is_incremental() %}
        union all
        select * from carried_over
    {% endif %}

)

select * from final
