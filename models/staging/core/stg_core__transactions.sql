-- Typed and renamed postings. Values that do not parse, and an empty id, become null here;
-- int_transactions_validated then gives each bad row a rejection reason, and keeps one copy of
-- each transaction id (the other copies go to the quarantine as duplicates).
with

source as (

    select * from {{ source('core', 'transactions') }}

),

renamed as (

    select
        nullif(trim(transaction_id), '') as transaction_id,
        try_cast(account_id as bigint) as account_id,
        try_to_timestamp(transaction_ts, 'yyyy-MM-dd HH:mm:ss') as transaction_at,
        try_cast(amount as decimal(18, 2)) as amount,
        upper(trim(currency)) as currency_code,
        lower(trim(direction)) as direction,
        lower(trim(channel)) as channel,
        lower(trim(merchant_category)) as merchant_category,
        counterparty,
        upper(trim(country)) as country_code,
        try_cast(balance_after as decimal(18, 2)) as balance_after_czk,
        transaction_ts as transaction_ts_raw,
        account_id as account_id_raw,
        amount as amount_raw,
        batch_date
    from source

)

select * from renamed
