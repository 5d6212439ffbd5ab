with

customers as (

    select * from {{ core_ref('customers') }}

),

branches as (

    select * from {{ ref('dim_branches') }}

),

accounts as (

    select
        customer_id,
        count(*) as account_count,
        min(opened_date) as first_account_opened_date
    from {{ core_ref('accounts') }}
    group by customer_id

),

final as (

    select
        customers.customer_id,
        customers.full_name,
        customers.birth_date,
        cast(floor(months_between(current_date(), customers.birth_date) / 12) as int) as age_years,
        case
            when months_between(current_date(), customers.birth_date) < 12 * 25 then '18-24'
            when months_between(current_date(), customers.birth_date) < 12 * 35 then '25-34'
            when months_between(current_date(), customers.birth_date) < 12 * 45 then '35-44'
            when months_between(current_date(), customers.birth_date) < 12 * 55 then '45-54'
            when months_between(current_date(), customers.birth_date) < 12 * 65 then '55-64'
            else '65+'
        end as age_band,
        customers.segment,
        customers.income_band,
        customers.home_branch_id,
        branches.region_id,
        branches.region_name,
        customers.joined_date,
        cast(coalesce(accounts.account_count, 0) as int) as account_count
    from customers
    left join branches on customers.home_branch_id = branches.branch_id
    left join accounts on customers.customer_id = accounts.customer_id

)

select * from final
