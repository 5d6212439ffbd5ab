with

source as (

    select * from {{ source('core', 'customers') }}

),

renamed as (

    select
        cast(customer_id as bigint) as customer_id,
        full_name,
        to_date(birth_date) as birth_date,
        lower(segment) as segment,
        lower(income_band) as income_band,
        cast(home_branch_id as int) as home_branch_id,
        to_date(joined_date) as joined_date
    from source

)

select * from renamed
