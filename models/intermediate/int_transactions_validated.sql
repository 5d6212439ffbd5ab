{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['batch_date'],
    )
}}

-- Every landed posting once, with `rejection_reason` null when it may enter the facts.
-- Incremental by landed batch: a run reads only batches newer than the last one processed and
-- checks their ids against the postings already accepted.

{#- With `validated_through` (frontier build hands over this model's last batch, build_hint)
    the mark is asked first over that batch's partition alone instead of every batch's file. -#}
{%- set processed_through = high_water_mark(
    'batch_date', at_least=build_hint('validated_through')
) %}

with

transactions as (

    select * from {{ core_ref('transactions') }}
    where batch_date > '{{ processed_through }}'

),

accounts as (

    select * from {{ core_ref('accounts') }}

),

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

{% if is_incremental() %}
    -- The new batches' ids are broadcast to the scan of what is already accepted: left to the
    -- planner, which does not know a landed batch is small, it was a sort-merge join that
    -- shuffled all 10M accepted ids to find a day's ~17,000 (~20 s of CPU at 10M).
    already_accepted as (

        select /*+ broadcast(new_ids) */
            accepted.transaction_id,
            accepted.batch_date as accepted_batch_date
        from {{ this }} as accepted
        left semi join (select transactions.transaction_id from transactions) as new_ids
            on accepted.transaction_id = new_ids.transaction_id
        where accepted.rejection_reason is null

    ),
{% endif %}

-- Ids that landed more than once (usually none; a day's batch landed twice, ~17,000): only their
-- rows are ranked. A window over every id shuffled and sorted the whole landing; the broadcast
-- joins leave the other rows in place (the full-refresh query alone at 10M: 27-29 s instead of
-- 37-40 s).
repeated_ids as (

    select transaction_id from transactions
    group by transaction_id
    having count(*) > 1

),

ranked as (

    select /*+ broadcast(repeated_ids) */
        transactions.*,
        1 as id_occurrence
    from transactions
    left anti join repeated_ids on transactions.transaction_id = repeated_ids.transaction_id

    union all

    select /*+ broadcast(repeated_ids) */
        transactions.*,
        row_number() over (
            partition by transactions.transaction_id
            order by transactions.batch_date, transactions.transaction_at, transactions.amount_raw
        ) as id_occurrence
    from transactions
    left semi join repeated_ids on transactions.transaction_id = repeated_ids.transaction_id

),

checked as (

    select
        ranked.*,
        accounts.opened_date as account_opened_date,
        fx_rates.czk_per_unit,
        accounts.account_id is not null as is_known_account,
        {% if is_incremental() %}
            already_accepted.accepted_batch_date
        {% else %}
            cast(null as string) as accepted_batch_date
        {% endif %}
    from ranked
    left join accounts on ranked.account_id = accounts.account_id
    left join fx_rates on ranked.currency_code = fx_rates.currency
    {% if is_incremental() -%}
        left join already_accepted
            on ranked.transaction_id = already_accepted.transaction_id
    {%- endif %}

),

reasoned as (

    select
        *,
        case
            when transaction_id is null or transaction_id = ''
                then 'missing transaction_id'
            when account_id is null
                then concat('unparseable account_id: ', coalesce(account_id_raw, '<null>'))
            when not is_known_account
                then concat('unknown account_id: ', account_id)
            when transaction_at is null
                then concat('unparseable transaction_ts: ', coalesce(transaction_ts_raw, '<null>'))
            when to_date(transaction_at) < account_opened_date
                then concat('posted before the account opened on ', account_opened_date)
            when amount is null
                then concat('unparseable amount: ', coalesce(amount_raw, '<null>'))
            when amount <= 0
                then concat('amount not positive: ', amount_raw)
            when czk_per_unit is null
                then concat('unknown currency: ', coalesce(currency_code, '<null>'))
            when amount * czk_per_unit > 100000000
                then concat('amount out of range: ', amount_raw, ' ', currency_code)
            when direction is null or direction not in ('debit', 'credit')
                then concat('unknown direction: ', coalesce(direction, '<null>'))
            when accepted_batch_date is not null
                then concat('duplicate transaction_id: already loaded in batch ', accepted_batch_date)
            when id_occurrence > 1
                then 'duplicate transaction_id'
        end as rejection_reason
    from checked

),

-- The landed text of the timestamp and amount only where it explains a rejection (for
-- int_transactions_rejected): an accepted posting has its parsed values, and
-- raw.core_transactions keeps every landed row's text. Two text columns for every posting made
-- a third of this table.
final as (

    select
        transaction_id,
        account_id,
        transaction_at,
        amount,
        currency_code,
        cast(round(amount * czk_per_unit, 2) as decimal(18, 2)) as amount_czk,
        direction,
        channel,
        merchant_category,
        counterparty,
        country_code,
        balance_after_czk,
        rejection_reason,
        case when rejection_reason is not null then transaction_ts_raw end as transaction_ts_raw,
        case when rejection_reason is not null then amount_raw end as amount_raw,
        batch_date
    from reasoned

)

select * from final
