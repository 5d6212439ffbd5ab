with

loans as (

    select * from {{ core_ref('loans') }}

),

accounts as (

    select * from {{ ref('int_accounts_joined') }}

),

final as (

    select
        loans.loan_id,
        loans.account_id,
        accounts.customer_id,
        accounts.branch_id,
        accounts.region_id,
        loans.application_date,
        add_months(loans.application_date, loans.term_months) as maturity_date,
        loans.amount_czk,
        loans.term_months,
        loans.interest_rate,
        -- as the bank reports it, else the annuity amount * r / (1 - (1 + r)^-n), monthly rate r
        coalesce(loans.monthly_payment_czk, cast(round(
            case
                when loans.interest_rate = 0 then loans.amount_czk / loans.term_months
                else loans.amount_czk * (loans.interest_rate / 12)
                    / (1 - pow(1 + loans.interest_rate / 12, -loans.term_months))
            end, 2
        ) as decimal(18, 2))) as monthly_payment_czk,
        loans.status_code,
        case loans.status_code
            when 'A' then 'paid_off'
            when 'B' then 'defaulted'
            when 'C' then 'current'
            when 'D' then 'in_arrears'
        end as status,
        loans.status_code in ('B', 'D') as is_default,
        loans.status_code in ('A', 'B') as is_finished,
        loans.status_updated_date
    from loans
    inner join accounts on loans.account_id = accounts.account_id

)

select * from final
