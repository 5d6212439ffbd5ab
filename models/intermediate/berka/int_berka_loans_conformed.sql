-- The Czech bank's loans in the shape of stg_core__loans. The bank reports the monthly payment
-- but no interest rate; the status is as of the dataset's end, 1998-12-31.
with

loans as (

    select * from {{ ref('stg_berka__loans') }}

),

final as (

    select
        loan_id,
        account_id,
        granted_date as application_date,
        amount_czk,
        duration_months as term_months,
        cast(null as double) as interest_rate,
        monthly_payment_czk,
        status_code,
        date '1998-12-31' as status_updated_date
    from loans

)

select * from final
