with

source as (

    select * from {{ source('core', 'branches') }}

),

renamed as (

    select
        cast(branch_id as int) as branch_id,
        branch_name,
        city,
        cast(region_id as int) as region_id,
        to_date(opened_date) as opened_date
    from source

)

select * from renamed
