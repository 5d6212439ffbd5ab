-- The quarantine: every landed posting that did not enter fct_transactions, with the reason.
with

validated as (

    select * from {{ ref('int_transactions_validated') }}

),

final as (

    select
        transaction_id,
        account_id,
        transaction_ts_raw,
        amount_raw,
        currency_code,
        direction,
        rejection_reason,
        batch_date
    from validated
    where rejection_reason is not null

)

select * from final
