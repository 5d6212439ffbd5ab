with

source as (

    select * from {{ source('berka', 'districts') }}

),

renamed as (

    select
        cast(district_id as int) as district_id,
        district_name,
        region_name,
        cast(inhabitants as int) as inhabitants,
        cast(cities as int) as cities,
        cast(urban_ratio as double) as urban_ratio,
        cast(average_salary as int) as average_salary_czk,
        cast(nullif(unemployment_rate_1995, '') as double) as unemployment_rate_1995,
        cast(unemployment_rate_1996 as double) as unemployment_rate_1996,
        cast(entrepreneurs_per_1000 as int) as entrepreneurs_per_1000,
        cast(nullif(crimes_1995, '') as int) as crimes_1995,
        cast(crimes_1996 as int) as crimes_1996
    from source

)

select * from renamed
