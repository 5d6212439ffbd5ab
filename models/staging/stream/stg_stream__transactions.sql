-- Streamed transactions as the stream stored them (already validated: rejects are in the
-- quarantine). Rows of a micro-batch still being written are here too: read them through
-- stg_stream__batches, which lists the committed batches.
with

source as (

    select * from {{ source('stream', 'transactions') }}

),

renamed as (

    select
        transaction_id,
        account_id,
        event_at as transaction_at,
        amount,
        currency_code,
        amount_czk,
        direction,
        channel,
        merchant_category,
        counterparty,
        country_code,
        balance_after_czk,
        anomaly_score,
        landed_at,
        ingested_at,
        stream_id,
        stream_batch_id,
        event_date
    from source

)

select * from renamed
