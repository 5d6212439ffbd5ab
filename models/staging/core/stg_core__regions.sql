with

source as (

    select * from {{ source('core', 'regions') }}

),

renamed as (

    select
        cast(region_id as int) as region_id,
        region_name,
        upper(country_code) as country_code
    from source

)

select * from renamed
