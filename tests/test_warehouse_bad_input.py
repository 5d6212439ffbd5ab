"""Bad source rows end in the quarantine with a reason, or fail the build naming the test."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from frontier import dbt, raw
from frontier.generator import TRANSACTION_COLUMNS

BAD_BATCH = "2031-01-01"


def _row(txn_id, account, ts="2025-01-05 10:00:00", amount="120.00", currency="CZK"):
    return (
        txn_id,
        account,
        ts,
        amount,
        currency,
        "debit",
        "card_pos",
        "groceries",
        "M-X",
        "CZ",
        "0.00",
    )


def test_bad_transactions_are_quarantined_with_a_reason(spark, streamed):
    def streamed_rows():
        return spark.table("marts.fct_transactions").where("source_system = 'stream'")

    if streamed_rows().limit(1).count() == 0:
        dbt.build()  # load the streamed transactions first (when run alone)
    streamed_id, streamed_account = streamed_rows().select("transaction_id", "account_id").first()
    account = str(spark.table("raw.core_accounts").orderBy("opened_date").first().account_id)
    loaded_id, loaded_batch = (
        spark.table("marts.fct_transactions")
        .where("source_system = 'core'")
        .select("transaction_id", "batch_date")
        .first()
    )
    rows = [
        _row("T-BAD-OK", account),
        _row("", account),
        _row("T-BAD-ACCOUNT", "999999999"),
        _row("T-BAD-ACCOUNT-TEXT", "abc"),
        _row("T-BAD-TS", account, ts="yesterday noon"),
        _row("T-BAD-NEG", account, amount="-50.00"),
        _row("T-BAD-HUGE", account, amount="1000000000000"),
        _row("T-BAD-CUR", account, currency="XYZ"),
        _row("T-BAD-DUP", account, amount="10.00"),
        _row("T-BAD-DUP", account, amount="20.00"),
        _row(loaded_id, account),
        # the core extract repeats a transaction the stream delivered: it is loaded once
        _row(streamed_id, str(streamed_account)),
    ]

    def core_count() -> int:  # a fresh relation each time: it lists the table's files anew
        return spark.table("marts.fct_transactions").where("source_system = 'core'").count()

    before = core_count()
    raw.land_batch(
        spark, "core", "transactions", spark.createDataFrame(rows, TRANSACTION_COLUMNS), BAD_BATCH
    )
    dbt.build()

    rejected = {
        (r.transaction_id, r.rejection_reason)
        for r in spark.table("intermediate.int_transactions_rejected")
        .where(F.col("batch_date") == BAD_BATCH)
        .collect()
    }
    assert rejected == {
        (None, "missing transaction_id"),  # staging reads an empty id as none
        ("T-BAD-ACCOUNT", "unknown account_id: 999999999"),
        ("T-BAD-ACCOUNT-TEXT", "unparseable account_id: abc"),
        ("T-BAD-TS", "unparseable transaction_ts: yesterday noon"),
        ("T-BAD-NEG", "amount not positive: -50.00"),
        ("T-BAD-HUGE", "amount out of range: 1000000000000 CZK"),
        ("T-BAD-CUR", "unknown currency: XYZ"),
        ("T-BAD-DUP", "duplicate transaction_id"),
        (loaded_id, f"duplicate transaction_id: already loaded in batch {loaded_batch}"),
    }
    accepted = spark.table("marts.fct_transactions").where(F.col("batch_date") == BAD_BATCH)
    assert sorted(r.transaction_id for r in accepted.collect()) == ["T-BAD-DUP", "T-BAD-OK"]
    assert accepted.where(F.col("transaction_id") == "T-BAD-DUP").first().amount == 10
    # Nothing lost: every landed row is either accepted or quarantined.
    assert core_count() == before + 2
    again = spark.table("marts.fct_transactions").where(F.col("transaction_id") == streamed_id)
    assert [r.source_system for r in again.collect()] == ["stream"]


def test_negative_loan_amount_fails_the_build_naming_the_test(spark, built):
    original = spark.table("raw.core_loans").drop("batch_date").toPandas()
    broken = original.copy()
    broken.loc[0, "amount"] = "-1000.0"
    raw.land_snapshot(spark, "core", "loans", spark.createDataFrame(broken))
    try:
        with pytest.raises(dbt.DbtError) as failure:
            dbt.run(["build", "--select", "stg_core__loans"])
        assert "accepted_range_stg_core__loans_amount_czk" in str(failure.value)
        assert "Got 1 result" in str(failure.value)
    finally:
        raw.land_snapshot(spark, "core", "loans", spark.createDataFrame(original))
