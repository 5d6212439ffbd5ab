from __future__ import annotations

import datetime as dt

import numpy as np
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from frontier.generator import Spec, calendar, draw_bank, fx_rates
from frontier.generator import transactions as tx
from tests.conftest import TEST_SEED, TEST_TRANSACTIONS


def test_master_data_is_deterministic_for_a_seed():
    a, b = draw_bank(Spec(5_000, 3)), draw_bank(Spec(5_000, 3))
    c = draw_bank(Spec(5_000, 4))
    assert a.accounts.equals(b.accounts) and a.loans.equals(b.loans)
    assert not a.accounts["activity"].equals(c.accounts["activity"])


def test_allocation_gives_exactly_n_transactions():
    bank = draw_bank(Spec(12_345, 1))
    assert bank.accounts["n_transactions"].sum() == 12_345
    assert (bank.accounts["n_transactions"] >= 0).all()


def test_calendar_has_weekly_and_holiday_seasonality():
    origin = dt.date(2024, 1, 1)
    wednesday, sunday = dt.date(2024, 3, 13), dt.date(2024, 3, 17)
    assert calendar.day_weight(sunday, origin) < 0.7 * calendar.day_weight(wednesday, origin)
    assert calendar.is_holiday(dt.date(2024, 4, 1))  # Easter Monday 2024
    assert calendar.day_weight(dt.date(2024, 12, 25), origin) < calendar.day_weight(
        dt.date(2024, 12, 18), origin
    )


def test_generated_transactions(spark, generated):
    assert generated["raw.core_transactions"] == TEST_TRANSACTIONS
    txns = spark.table("raw.core_transactions")
    assert txns.select("transaction_id").distinct().count() == TEST_TRANSACTIONS

    # Each account's running balance reconciles with its signed amounts.
    accounts = spark.table("raw.core_accounts").select(
        F.col("account_id"), F.col("opening_balance").cast("double").alias("opening")
    )
    rate = tx.czk_per_unit(F.col("currency"), fx_rates())
    signed = F.round(F.col("amount").cast("double") * rate, 2) * F.when(
        F.col("direction") == "credit", 1
    ).otherwise(-1)
    per_account = txns.groupBy("account_id").agg(
        F.sum(signed).alias("net"),
        F.max_by(
            F.col("balance_after").cast("double"), F.struct("transaction_ts", "transaction_id")
        ).alias("last"),
    )
    off = per_account.join(accounts, "account_id").where(
        F.abs(F.col("opening") + F.col("net") - F.col("last")) > 0.05
    )
    assert off.count() == 0


def test_anomaly_labels_point_at_transactions(spark, generated):
    labels = spark.table("raw.fraud_anomaly_labels")
    assert {r.anomaly_type for r in labels.select("anomaly_type").distinct().collect()} == {
        "burst",
        "amount_spike",
        "foreign_high",
    }
    orphans = labels.join(spark.table("raw.core_transactions"), "transaction_id", "left_anti")
    assert orphans.count() == 0


def test_weekends_are_quieter(spark, generated):
    by_dow = (
        spark.table("raw.core_transactions")
        .groupBy(F.dayofweek(F.to_timestamp("transaction_ts")).alias("dow"))
        .count()
        .toPandas()
        .set_index("dow")["count"]
    )
    assert by_dow[1] < 0.75 * by_dow[[2, 3, 4, 5, 6]].mean()  # Sunday vs weekdays


def test_loan_default_rate_is_plausible():
    loans = draw_bank(Spec(200_000, TEST_SEED)).loans
    rate = loans["status"].isin(["B", "D"]).mean()
    assert 0.05 < rate < 0.35, rate
    assert np.all(loans["amount"] > 0)


def test_transaction_rows_are_deterministic(spark, generated):
    from frontier.generator import _history_rows

    spec = Spec(3_000, 5)
    bank = draw_bank(spec)
    fx = fx_rates()

    def sample():
        rows = tx.with_attributes(_history_rows(spark, spec, bank), spec.seed, fx)
        return rows.select("transaction_id", "transaction_ts", "amount", "channel").where(
            F.col("transaction_id").endswith("7")
        )

    assertDataFrameEqual(sample(), sample())
