with

source as (

    select * from {{ source('core', 'loans') }}

),

renamed as (

    select
        cast(loan_id as bigint) as loan_id,
        cast(account_id as bigint) as account_id,
        to_date(application_date) as application_date,
        try_cast(amount as decimal(18, 2)) as amount_czk,
        cast(term_months as int) as term_months,
        cast(interest_rate as double) as interest_rate,
        -- the core system reports the rate, not the payment: fct_loans derives the annuity
        cast(null as decimal(18, 2)) as monthly_payment_czk,
        upper(status) as status_code,
        to_date(status_updated_date) as status_updated_date
    from source

)

select * from renamed
