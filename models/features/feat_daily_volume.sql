-- The daily volume series per region and channel, dense (days without postings are zero), with
-- lags and calendar features for the forecast. Each row only looks backwards. The series runs
-- {{ var('forecast_horizon_days') }} days past the last posting: those rows (is_future) have no
-- actuals yet, only the lags the forecast needs, and are what the forecast scores.
with

volume as (

    select * from {{ ref('fct_daily_volume') }}

),

holidays as (

    select * from {{ ref('public_holidays') }}

),

bounds as (

    select
        min(volume_date) as first_date,
        max(volume_date) as last_date
    from volume

),

series as (

    select distinct
        region_id,
        channel
    from volume

),

spine as (

    select
        series.region_id,
        series.channel,
        explode(
            sequence(
                bounds.first_date,
                date_add(bounds.last_date, {{ var('forecast_horizon_days') }}),
                interval 1 day
            )
        ) as volume_date
    from series
    cross join bounds

),

dense as (

    select
        spine.volume_date,
        spine.region_id,
        spine.channel,
        spine.volume_date > bounds.last_date as is_future,
        holidays.holiday_date is not null as is_holiday,
        case
            when spine.volume_date <= bounds.last_date then coalesce(volume.transaction_count, 0)
        end as transaction_count,
        case
            when spine.volume_date <= bounds.last_date
                then coalesce(cast(volume.amount_czk as double), 0.0)
        end as amount_czk
    from spine
    cross join bounds
    left join volume
        on spine.volume_date = volume.volume_date
            and spine.region_id = volume.region_id
            and spine.channel = volume.channel
    left join holidays on spine.volume_date = holidays.holiday_date

),

final as (

    select
        volume_date,
        region_id,
        channel,
        is_future,
        transaction_count,
        amount_czk,
        {% for lag in [1, 7, 14, 28] -%}
            lag(transaction_count, {{ lag }})
                over (partition by region_id, channel order by volume_date)
                as count_lag_{{ lag }},
            lag(amount_czk, {{ lag }})
                over (partition by region_id, channel order by volume_date)
                as amount_lag_{{ lag }},
        {% endfor -%}
        avg(transaction_count)
            over (
                partition by region_id, channel order by volume_date rows between 7 preceding and 1 preceding
            )
            as count_mean_7,
        avg(transaction_count)
            over (
                partition by region_id, channel order by volume_date rows between 28 preceding and 1 preceding
            )
            as count_mean_28,
        avg(amount_czk)
            over (
                partition by region_id, channel order by volume_date rows between 7 preceding and 1 preceding
            )
            as amount_mean_7,
        dayofweek(volume_date) as day_of_week,
        dayofmonth(volume_date) as day_of_month,
        month(volume_date) as month_of_year,
        dayofweek(volume_date) in (1, 7) as is_weekend,
        dayofmonth(volume_date) between 24 and 27 as is_payday_window,
        dayofmonth(volume_date) <= 2 as is_month_start,
        datediff(last_day(volume_date), volume_date) as days_to_month_end,
        is_holiday
    from dense

)

select * from final
