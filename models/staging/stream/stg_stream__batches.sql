-- Committed micro-batches: the stream writes a batch's row after all of its data.
with

source as (

    select * from {{ source('stream', 'batches') }}

),

renamed as (

    select
        stream_id,
        stream_batch_id,
        ingested_at,
        committed_at,
        events as event_count,
        valid as valid_count,
        quarantined as quarantined_count,
        alerts as alert_count,
        first_landed_at,
        last_landed_at
    from source

)

select * from renamed
