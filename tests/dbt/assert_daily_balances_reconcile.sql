-- Balances computed from accepted postings must match what the core system reports after the
-- day's last posting. A mismatch means a posting was lost, duplicated or rejected on an
-- account the core system did book it on: warn, and name the account and day.
{{ config(severity='warn') }}

select
    account_id,
    balance_date,
    closing_balance_czk,
    reported_closing_balance_czk,
    closing_balance_czk - reported_closing_balance_czk as difference_czk
from {{ ref('fct_daily_account_balances') }}
where abs(closing_balance_czk - reported_closing_balance_czk) > 0.01
