with

branches as (

    select * from {{ core_ref('branches') }}

),

regions as (

    select * from {{ core_ref('regions') }}

),

final as (

    select
        branches.branch_id,
        branches.branch_name,
        branches.city,
        branches.region_id,
        regions.region_name,
        regions.country_code,
        branches.opened_date
    from branches
    left join regions on branches.region_id = regions.region_id

)

select * from final
