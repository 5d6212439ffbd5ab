-- The Czech bank keeps accounts by district, so each district is a branch, in the shape of
-- stg_core__branches; a branch opened with its first account.
with

districts as (

    select * from {{ ref('stg_berka__districts') }}

),

regions as (

    select * from {{ ref('int_berka_regions_conformed') }}

),

accounts as (

    select * from {{ ref('stg_berka__accounts') }}

),

first_accounts as (

    select
        district_id,
        min(opened_date) as first_opened_date
    from accounts
    group by district_id

),

final as (

    select
        districts.district_id as branch_id,
        districts.district_name as branch_name,
        districts.district_name as city,
        regions.region_id,
        first_accounts.first_opened_date as opened_date
    from districts
    inner join regions on districts.region_name = regions.region_name
    left join first_accounts on districts.district_id = first_accounts.district_id

)

select * from final
