with

source as (

    select * from {{ source('berka', 'accounts') }}

),

renamed as (

    select
        cast(account_id as bigint) as account_id,
        cast(district_id as int) as district_id,
        statement_frequency,
        to_date(opened_date) as opened_date
    from source

)

select * from renamed
