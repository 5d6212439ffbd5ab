-- The Czech bank's postings in the shape of stg_core__transactions.
-- Time of day: the bank books dates only, so a day's postings of an account are placed one
-- second apart from midnight in booking order (the order the running balance implies, worked
-- out by the loader); the day's last posting is then the one whose balance closes the day.
-- Channel from the operation (card withdrawal: atm; cash in or out: branch; to or from another
-- bank: transfer; the bank's own postings such as interest and fees: branch); merchant category
-- from the purpose (k_symbol), else from the operation.
with

transactions as (

    select * from {{ ref('stg_berka__transactions') }}

),

final as (

    select
        transaction_id,
        account_id,
        booked_at + make_interval(
            0, 0, 0, 0, 0, 0,
            row_number() over (
                partition by account_id, booked_at order by booking_sequence
            ) - 1
        ) as transaction_at,
        amount_czk as amount,
        'CZK' as currency_code,
        case transaction_type
            when 'credit' then 'credit'
            when 'withdrawal' then 'debit'
            when 'cash_withdrawal' then 'debit'
        end as direction,
        case transaction_operation
            when 'card_withdrawal' then 'atm'
            when 'collection_from_other_bank' then 'transfer'
            when 'remittance_to_other_bank' then 'transfer'
            else 'branch'
        end as channel,
        case
            when purpose = 'household' then 'utilities'
            when purpose in ('statement_fee', 'penalty_interest') then 'bank_fees'
            when purpose = 'loan_payment' then 'loan_repayment'
            when purpose is not null then purpose
            when transaction_operation in ('card_withdrawal', 'cash_withdrawal', 'cash_credit') then 'cash'
            when transaction_operation is not null then 'transfers'
        end as merchant_category,
        nullif(concat_ws('/', partner_bank, partner_account), '') as counterparty,
        'CZ' as country_code,
        balance_after_czk,
        transaction_date_raw as transaction_ts_raw,
        account_id_raw,
        amount_raw,
        batch_date
    from transactions

)

select * from final
