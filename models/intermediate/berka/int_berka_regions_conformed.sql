-- The Czech bank's regions (district.asc's A3) in the shape of stg_core__regions.
with

districts as (

    select * from {{ ref('stg_berka__districts') }}

),

regions as (

    select distinct region_name from districts

),

final as (

    select
        cast(dense_rank() over (order by region_name) as int) as region_id,
        region_name,
        'CZ' as country_code
    from regions

)

select * from final
