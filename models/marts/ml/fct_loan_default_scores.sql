-- Every open loan (not yet finished) scored by the loan_default champion through its SQL
-- function: probability of default, a risk band, and the three features behind the score.
-- Tagged `ml`: it needs a trained champion (`frontier train loan_default`).
{{ config(tags=['ml']) }}

with

features as (

    select * from {{ ref('feat_loan_default') }}

),

loans as (

    select * from {{ ref('fct_loans') }}
    where not is_finished

),

scored as (

    {{ ml_predict('loan_default', 'features', explain=true) }}

),

final as (

    select
        loans.loan_id,
        loans.customer_id,
        loans.region_id,
        loans.application_date,
        loans.status,
        scored.segment,
        scored.loan_default_prediction as default_probability,
        case
            when scored.loan_default_prediction >= 0.5 then 'high'
            when scored.loan_default_prediction >= 0.3 then 'elevated'
            else 'low'
        end as risk_band,
        scored.loan_default_explanation as top_reasons
    from loans
    inner join scored on loans.loan_id = scored.loan_id

)

select * from final
