{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}

-- One row per fct_transactions load and transaction day: which days each run's `loaded_at`
-- stamped rows on. Downstream incremental models ask this table, not the facts, which days
-- rows newer than their high-water mark fall on: a filter on loaded_at cannot prune the facts'
-- day partitions, so asking the facts opened every day's file (at 10M, ~370 files and ~2 s of
-- CPU per question, asked by half a dozen models per run). Appended to: a run adds the loads
-- newer than the newest one it holds. Build it whenever fct_transactions is built (a plain
-- `dbt build`, or `--select fct_transactions+`): a downstream model run after the facts but
-- without it sees no new days, and those that take their high-water mark from the facts they
-- read (feat_customer_monthly, feat_loan_behaviour) can then step over postings it has not listed.

{%- set loaded_through = high_water_mark('loaded_at', default='1970-01-01 00:00:00') %}

with

transactions as (

    select * from {{ ref('fct_transactions') }}
    where loaded_at > '{{ loaded_through }}'

),

final as (

    select
        loaded_at,
        transaction_date,
        count(*) as transaction_count
    from transactions
    group by loaded_at, transaction_date

)

select * from final
