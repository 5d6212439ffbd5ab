with

source as (

    select * from {{ source('fraud', 'anomaly_labels') }}

),

renamed as (

    select distinct
        transaction_id,
        lower(anomaly_type) as anomaly_type,
        to_timestamp(labelled_at) as labelled_at
    from source

)

select * from renamed
