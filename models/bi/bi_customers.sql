-- Customers for BI tools: the name masked (initials only), no birth date (age band instead).
with

customers as (

    select * from {{ ref('dim_customers') }}

),

final as (

    select
        customer_id,
        {{ pseudonym('full_name') }} as customer_name_key,
        {{ mask_name('full_name') }} as customer_name_masked,
        age_band,
        segment,
        income_band,
        home_branch_id,
        region_id,
        region_name,
        joined_date,
        account_count
    from customers

)

select * from final
