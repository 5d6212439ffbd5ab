-- Postings as the Czech bank booked them: a date but no time, a type (credit, withdrawal, cash
-- withdrawal), an operation and a purpose. Values that do not parse become null; the conformed
-- model keeps the raw text for int_transactions_validated's rejection reasons.
with

source as (

    select * from {{ source('berka', 'transactions') }}

),

renamed as (

    select
        trim(transaction_id) as transaction_id,
        try_cast(account_id as bigint) as account_id,
        try_to_timestamp(transaction_date, 'yyyy-MM-dd') as booked_at,
        try_cast(amount as decimal(18, 2)) as amount_czk,
        transaction_type,
        nullif(operation, '') as transaction_operation,
        try_cast(balance as decimal(18, 2)) as balance_after_czk,
        nullif(purpose, '') as purpose,
        nullif(partner_bank, '') as partner_bank,
        nullif(partner_account, '') as partner_account,
        cast(booking_sequence as int) as booking_sequence,
        transaction_date as transaction_date_raw,
        account_id as account_id_raw,
        amount as amount_raw,
        batch_date
    from source

)

select * from renamed
