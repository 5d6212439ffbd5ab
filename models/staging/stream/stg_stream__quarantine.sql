with

source as (

    select * from {{ source('stream', 'quarantine') }}

),

renamed as (

    select
        transaction_id,
        raw_event,
        rejection_reason,
        source_file,
        landed_at,
        ingested_at,
        stream_id,
        stream_batch_id,
        ingest_date
    from source

)

select * from renamed
