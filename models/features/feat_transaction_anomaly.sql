{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['transaction_month'],
        on_schema_change='fail',
    )
}}

-- One row per transaction: the transaction and how far it departs from its own account's
-- recent profile (amount against the previous {{ var('anomaly_profile_days') }} days, postings in
-- the preceding minutes, seconds since the previous posting when that is within the profile
-- window), with the confirmed-anomaly label. Only earlier postings of the account feed each row.
-- Incremental by month: a run rewrites every month from the first one that new transactions or
-- new labels touch. Rows from their first day on are recomputed, for the accounts that post on
-- or after it, reading those accounts' {{ var('anomaly_profile_days') }} days before it as
-- context, which is all a row's windows see; the rows of that month's earlier days are copied
-- from the table, unchanged. So a run gives exactly what a full refresh gives, and a daily run
-- reads a fifth of the accounts' recent postings instead of all of them. When the recomputed
-- rows are a few days' (a daily run), each one's profile comes from a join with its account's
-- postings inside its window instead of windows over the whole context (see `pointwise`).

{%- set profile_days = var('anomaly_profile_days') %}
{%- set profile_seconds = profile_days * 86400 %}
{%- set loaded_through = high_water_mark('loaded_at', default='1970-01-01 00:00:00') %}
{%- set labelled_through = high_water_mark('labelled_at', default='1970-01-01 00:00:00') %}
{%- set new_days = new_batch_dates(
    ref('fct_transaction_loads'), 'transaction_date', loaded_through, 'loaded_at'
) %}
{%- set from_date = new_days[0] if new_days else '9999-12-31' %}
{%- if execute and is_incremental() %}
    {#- New labels of transactions loaded before this run: their months are recomputed too. The
        labels of this run's own transactions are left out first (their months are recomputed
        anyway), so that on a usual run nothing is left and Spark skips the scan of every fact id
        (measured at 10M: 2.0 s instead of 4.9 s). -#}
    {%- set relabelled -%}
        with

        new_labels as (
            select transaction_id from {{ ref('stg_fraud__anomaly_labels') }}
            where labelled_at > '{{ labelled_through }}'
        ),

        earlier as (
            select new_labels.transaction_id
            from new_labels
            left anti join {{ ref('fct_transactions') }} as new_facts
                on new_labels.transaction_id = new_facts.transaction_id
                    and new_facts.loaded_at > '{{ loaded_through }}'
                    and {{ among_days('new_facts.transaction_date', new_days) }}
        )

        select /*+ broadcast(earlier) */ cast(min(facts.transaction_date) as string)
        from {{ ref('fct_transactions') }} as facts
        left semi join earlier on facts.transaction_id = earlier.transaction_id
    {%- endset %}
    {%- set first_relabelled = run_query(relabelled).columns[0].values()[0] %}
    {%- if first_relabelled is not none %}
        {%- set from_date = [from_date, first_relabelled] | min %}
    {%- endif %}
{%- endif %}
{%- set from_month = from_date[:7] ~ '-01' %}
{#- A daily run recomputes one day's rows, ~1 % of the context its windows would sort by
    account: it joins each of them (broadcast) with its account's postings inside its window
    and aggregates them, the same exact totals the windows give (checked equal at 10M). At 10M
    the query alone, alternating in one warm session: 1.5-2.1 s instead of 2.4-2.7 s, and 3.1
    instead of 6.7 s as the first of its kind (a build's usual case: its code is compiled anew).
    The join grows with the recomputed rows times each one's window, so runs that start further
    back (late labels, back-dated postings) use the windows. -#}
{%- set pointwise = is_incremental() and new_days and from_date == new_days[0]
    and (modules.datetime.date.fromisoformat(new_days[-1])
        - modules.datetime.date.fromisoformat(from_date)).days < 7 %}

with

{% if is_incremental() %}
    -- The postings of the accounts that post on or after from_date, with their context. The
    -- windows are per account, so other accounts' rows would change nothing.
    transactions as (

        select /*+ broadcast(recomputed_accounts) */ facts.*
        from {{ ref('fct_transactions') }} as facts
        left semi join (
            select account_id from {{ ref('fct_transactions') }}
            where transaction_date >= '{{ from_date }}'
        ) as recomputed_accounts
            on facts.account_id = recomputed_accounts.account_id
        where facts.transaction_date >= date_sub(date'{{ from_date }}', {{ profile_days }})

    ),

    -- The rewritten month's days before from_date: no posting, label or context of theirs is new.
    kept as (

        select * from {{ this }}
        where transaction_month = '{{ from_month }}'
            and transaction_date < '{{ from_date }}'

    ),
{% else %}
    transactions as (

        select * from {{ ref('fct_transactions') }}

    ),
{% endif %}

labels as (

    select * from {{ ref('stg_fraud__anomaly_labels') }}

),

{% if pointwise %}
    -- The rows this run recomputes.
    recomputed as (

        select * from transactions
        where transaction_date >= '{{ from_date }}'

    ),

    -- Each recomputed row's profile from its account's postings in the
    -- {{ profile_days }} days up to one second before it, aggregated exactly as the windows below.
    profile_context as (

        select /*+ broadcast(recomputed) */
            recomputed.transaction_id,
            count(*) as profile_txn_count,
            -- the type of the windows' difference of two running totals
            cast(sum(context.amount_czk) as decimal(29, 2)) as profile_amount_total,
            sum(context.amount_czk * context.amount_czk) as profile_squares_total,
            sum(cast(context.is_foreign as int)) as profile_foreign_total,
            max(cast(context.amount_czk as double)) as profile_max_amount,
            count_if(
                unix_timestamp(context.transaction_at)
                >= unix_timestamp(recomputed.transaction_at) - 600
            ) as txn_count_prev_10_min,
            max(unix_timestamp(context.transaction_at)) as previous_second
        from transactions as context
        inner join recomputed
            on context.account_id = recomputed.account_id
                and unix_timestamp(context.transaction_at) between
                unix_timestamp(recomputed.transaction_at) - {{ profile_seconds }}
                and unix_timestamp(recomputed.transaction_at) - 1
        group by recomputed.transaction_id

    ),

    profile_totals as (

        select /*+ broadcast(profile_context) */
            recomputed.transaction_id,
            recomputed.account_id,
            recomputed.transaction_at,
            recomputed.transaction_date,
            recomputed.direction,
            recomputed.channel,
            recomputed.merchant_category,
            cast(recomputed.is_foreign as int) as is_foreign,
            cast(recomputed.amount_czk as double) as amount_czk,
            hour(recomputed.transaction_at) as hour_of_day,
            unix_timestamp(recomputed.transaction_at) as posted_second,
            coalesce(profile_context.profile_txn_count, 0) as profile_txn_count,
            profile_context.profile_amount_total,
            profile_context.profile_squares_total,
            profile_context.profile_foreign_total,
            profile_context.profile_max_amount,
            coalesce(profile_context.txn_count_prev_10_min, 0) as txn_count_prev_10_min,
            profile_context.previous_second,
            recomputed.loaded_at
        from recomputed
        left join profile_context on recomputed.transaction_id = profile_context.transaction_id

    ),
{% else %}
    -- The profile over the previous {{ profile_days }} days without a sliding frame, which Spark
    -- re-aggregates row by row: exact decimal running totals up to one second before the posting,
    -- minus those up to the window's start. Sums, counts and the numerator of the variance are
    -- exact, so a run that starts its windows later (incremental) gives the same values as a full
    -- refresh. Only the maximum keeps a sliding frame.
    running as (

        select
            transaction_id,
            account_id,
            transaction_at,
            transaction_date,
            direction,
            channel,
            merchant_category,
            cast(is_foreign as int) as is_foreign,
            -- the windows below read the decimal amount of `transactions`
            cast(amount_czk as double) as amount_czk,
            hour(transaction_at) as hour_of_day,
            unix_timestamp(transaction_at) as posted_second,
            sum(amount_czk) over until_previous_second as amount_total,
            sum(amount_czk * amount_czk) over until_previous_second as amount_squares_total,
            count(*) over until_previous_second as txn_total,
            sum(cast(is_foreign as int)) over until_previous_second as foreign_total,
            max(unix_timestamp(transaction_at)) over until_previous_second as previous_second,
            sum(amount_czk) over before_profile as amount_total_before,
            sum(amount_czk * amount_czk) over before_profile as amount_squares_total_before,
            count(*) over before_profile as txn_total_before,
            sum(cast(is_foreign as int)) over before_profile as foreign_total_before,
            max(cast(amount_czk as double)) over profile_window as profile_max_amount,
            count(*) over burst_window as txn_count_prev_10_min,
            loaded_at
        from transactions
        window
            until_previous_second as (
                partition by account_id
                order by unix_timestamp(transaction_at)
                range between unbounded preceding and 1 preceding
            ),
            before_profile as (
                partition by account_id
                order by unix_timestamp(transaction_at)
                range between unbounded preceding and {{ profile_seconds + 1 }} preceding
            ),
            profile_window as (
                partition by account_id
                order by unix_timestamp(transaction_at)
                range between {{ profile_seconds }} preceding and 1 preceding
            ),
            burst_window as (
                partition by account_id
                order by unix_timestamp(transaction_at)
                range between 600 preceding and 1 preceding
            )

    ),

    profile_totals as (

        select
            *,
            txn_total - txn_total_before as profile_txn_count,
            amount_total - coalesce(amount_total_before, 0) as profile_amount_total,
            amount_squares_total - coalesce(amount_squares_total_before, 0) as profile_squares_total,
            foreign_total - coalesce(foreign_total_before, 0) as profile_foreign_total
        from running

    ),
{% endif %}

profiled as (

    select
        *,
        cast(profile_amount_total as double) / nullif(profile_txn_count, 0) as profile_mean_amount,
        -- population standard deviation: sqrt((n * sum(x^2) - sum(x)^2) / n^2)
        case when profile_txn_count > 0
                then sqrt(
                        cast(
                            profile_txn_count * profile_squares_total
                            - profile_amount_total * profile_amount_total as double
                        )
                        / (profile_txn_count * profile_txn_count)
                    )
        end as profile_stddev_amount,
        cast(profile_foreign_total as double) / nullif(profile_txn_count, 0)
            as profile_foreign_share,
        -- the latest earlier second with a posting within the profile window, as the stream
        -- computes it
        case when previous_second >= posted_second - {{ profile_seconds }}
                then posted_second - previous_second
        end as seconds_since_previous
    from profile_totals

),

final as (

    select
        profiled.transaction_id,
        profiled.account_id,
        profiled.transaction_at,
        profiled.transaction_date,
        profiled.direction,
        profiled.channel,
        profiled.merchant_category,
        profiled.is_foreign,
        profiled.amount_czk,
        profiled.hour_of_day,
        profiled.amount_czk / nullif(profiled.profile_mean_amount, 0) as amount_to_profile_mean,
        (profiled.amount_czk - profiled.profile_mean_amount)
        / nullif(profiled.profile_stddev_amount, 0) as amount_zscore,
        profiled.amount_czk / nullif(profiled.profile_max_amount, 0) as amount_to_profile_max,
        profiled.profile_foreign_share,
        profiled.profile_txn_count,
        profiled.txn_count_prev_10_min,
        profiled.seconds_since_previous,
        case when labels.transaction_id is not null then 1 else 0 end as is_anomaly,
        labels.labelled_at,
        profiled.loaded_at,
        trunc(profiled.transaction_date, 'MM') as transaction_month
    from profiled
    left join labels on profiled.transaction_id = labels.transaction_id
    {% if is_incremental() -%}
        where profiled.transaction_date >= '{{ from_date }}'
    {%- endif %}

)

select * from final
{% if is_incremental() -%}
    union all
    select * from kept
{%- endif %}
