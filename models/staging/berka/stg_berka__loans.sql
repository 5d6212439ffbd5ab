with

source as (

    select * from {{ source('berka', 'loans') }}

),

renamed as (

    select
        cast(loan_id as bigint) as loan_id,
        cast(account_id as bigint) as account_id,
        to_date(granted_date) as granted_date,
        try_cast(amount as decimal(18, 2)) as amount_czk,
        cast(duration_months as int) as duration_months,
        try_cast(monthly_payment as decimal(18, 2)) as monthly_payment_czk,
        upper(status) as status_code
    from source

)

select * from renamed
