"""Synthetic banking data: ``frontier generate`` and ``land_next_day``.

``generate`` draws a bank (regions, branches, customers, accounts, loans) and exactly N historical
transactions over a two-year period, lands them as extracts in the landing zone (raw.py) and
registers the ``raw`` tables that dbt reads as sources. The history lands as one bulk batch; each
``land_next_day`` call lands one more business day as its own batch, the way a daily extract
arrives, so incremental dbt models have something to pick up.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from frontier import config, raw
from frontier.generator import calendar, entities
from frontier.generator import transactions as tx

SOURCE = "core"
LABEL_SOURCE = "fraud"
CDF_BUCKETS = 20_000
TRANSACTIONS_PER_ACCOUNT = 150
MANIFEST = "_generator.json"
TRANSACTION_COLUMNS = [
    "transaction_id",
    "account_id",
    "transaction_ts",
    "amount",
    "currency",
    "direction",
    "channel",
    "merchant_category",
    "counterparty",
    "country",
    "balance_after",
]


def _progress(message: str) -> None:
    print(f"[generate] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Spec:
    transactions: int
    seed: int
    start: str = "2023-01-01"
    end: str = "2024-12-31"

    @property
    def period(self) -> entities.Period:
        return entities.Period(dt.date.fromisoformat(self.start), dt.date.fromisoformat(self.end))

    @property
    def n_accounts(self) -> int:
        return max(40, self.transactions // TRANSACTIONS_PER_ACCOUNT)

    @property
    def n_customers(self) -> int:
        return max(30, round(self.n_accounts / 1.35))


@dataclass(frozen=True)
class Bank:
    """The master data of one generated bank, hidden columns included."""

    regions: pd.DataFrame
    branches: pd.DataFrame
    customers: pd.DataFrame
    accounts: pd.DataFrame
    loans: pd.DataFrame


def fx_rates() -> dict[str, float]:
    """CZK per unit of each currency, from the dbt seed (one home for the rates)."""
    with open(config.project_root() / "seeds" / "fx_rates.csv", newline="") as fh:
        return {row["currency"]: float(row["czk_per_unit"]) for row in csv.DictReader(fh)}


def draw_bank(spec: Spec) -> Bank:
    rng = np.random.default_rng(spec.seed)
    period = spec.period
    branch_df = entities.branches(rng)
    cust = entities.customers(rng, spec.n_customers, period, branch_df)
    acct = entities.accounts(rng, spec.n_accounts, period, cust)
    # How many of the N transactions each account makes: its activity times the share of the
    # period's business it is open for, rounded so the counts add up to exactly N.
    cdf = calendar.cdf_at(period.start, period.end)
    share_before_open = cdf[acct["opened_idx"].clip(lower=0)]
    closed = acct["closed_idx"].to_numpy()
    share_after_close = np.where(
        closed < period.days, 1 - cdf[np.minimum(closed, period.days - 1)], 0.0
    )
    active_share = np.clip(1 - share_before_open - share_after_close, 0, None)
    weight = acct["activity"].to_numpy() * active_share
    cumulative = np.round(np.cumsum(weight) / weight.sum() * spec.transactions).astype(np.int64)
    acct = acct.assign(
        n_transactions=np.diff(np.concatenate([[0], cumulative])),
        share_before_open=share_before_open,
        share_after_close=share_after_close,
    )
    loan_df = entities.loans(rng, period, cust, acct)
    return Bank(entities.regions(), branch_df, cust, acct, loan_df)


def _history_rows(spark: SparkSession, spec: Spec, bank: Bank) -> DataFrame:
    """One row per historical transaction: its account profile and its day."""
    period = spec.period
    lookup = calendar.inverse_cdf_table(period.start, period.end, CDF_BUCKETS)
    days = spark.createDataFrame(
        pd.DataFrame({"bucket": np.arange(CDF_BUCKETS, dtype=np.int32), "day_idx": lookup})
    )
    profile = bank.accounts[
        ["account_id", "branch_id", "account_type", "risk", "income_factor", "opened_idx",
         "share_before_open", "share_after_close", "n_transactions"]
    ]  # fmt: skip
    accounts = spark.createDataFrame(profile[profile["n_transactions"] > 0])
    seed = spec.seed
    rows = accounts.withColumn("seq", F.explode(F.sequence(F.lit(0), F.col("n_transactions") - 1)))
    block = F.floor(F.col("seq") / tx.BURST_BLOCK).cast("int")
    rows = rows.withColumn("burst_block", block).withColumn(
        "burst_offset", F.pmod(F.col("seq"), F.lit(tx.BURST_BLOCK))
    )
    rows = rows.withColumn(
        "is_burst",
        (F.col("burst_offset") < tx.BURST_LEN)
        & ((F.col("burst_block") + 1) * tx.BURST_BLOCK <= F.col("n_transactions"))
        & (tx.uniform(seed, "burst", F.col("account_id"), F.col("burst_block")) < tx.P_BURST_BLOCK),
    )
    # A burst's rows share the day of the burst's first row.
    day_seq = F.when(F.col("is_burst"), F.col("burst_block") * tx.BURST_BLOCK).otherwise(
        F.col("seq")
    )
    active = 1 - F.col("share_before_open") - F.col("share_after_close")
    u = F.col("share_before_open") + tx.uniform(seed, "day", F.col("account_id"), day_seq) * active
    rows = rows.withColumn(
        "bucket", F.least(F.floor(u * CDF_BUCKETS).cast("int"), F.lit(CDF_BUCKETS - 1))
    )
    rows = rows.join(F.broadcast(days), "bucket")
    rows = rows.withColumn(
        "transaction_date",
        F.date_add(
            F.lit(period.start), F.greatest(F.col("day_idx"), F.col("opened_idx")).cast("int")
        ),
    )
    return rows.withColumn(
        "transaction_id",
        F.concat(
            F.lit("T"),
            F.col("account_id").cast("string"),
            F.lit("-"),
            F.lpad(F.col("seq").cast("string"), 7, "0"),
        ),
    )


def _land_transactions(
    spark: SparkSession, rows: DataFrame, opening: DataFrame, seed: int, batch: str
) -> int:
    drawn = tx.with_attributes(rows, seed, fx_rates())
    txns = tx.with_balances(drawn, opening).select(*TRANSACTION_COLUMNS)
    raw.land_batch(spark, SOURCE, "transactions", txns, batch)
    # Labels come from the same draws; computing them again skips the balance window.
    labels = drawn.where(F.col("anomaly_type").isNotNull()).select(
        "transaction_id", "anomaly_type", F.col("transaction_ts").alias("labelled_at")
    )
    raw.land_batch(spark, LABEL_SOURCE, "anomaly_labels", labels, batch)
    return spark.table(f"raw.{SOURCE}_transactions").where(F.col("batch_date") == batch).count()


def generate(spark: SparkSession, spec: Spec) -> dict[str, int]:
    """Land a whole generated bank and return row counts per raw table."""
    bank = draw_bank(spec)
    _progress(
        f"drew {len(bank.customers):,} customers, {len(bank.accounts):,} accounts, "
        f"{len(bank.loans):,} loans"
    )
    raw.clear_source(spark, SOURCE)
    raw.clear_source(spark, LABEL_SOURCE)
    hidden = ["risk", "monthly_income_czk", "opened_idx", "activity", "income_factor",
              "n_transactions", "share_before_open", "leaves_idx", "closed_idx",
              "share_after_close"]  # fmt: skip
    for name in ("regions", "branches", "customers", "accounts", "loans"):
        frame = getattr(bank, name)
        frame = frame.drop(columns=[c for c in hidden if c in frame.columns])
        raw.land_snapshot(spark, SOURCE, name, spark.createDataFrame(frame))

    _progress(f"landed master data; drawing {spec.transactions:,} transactions")
    opening = spark.createDataFrame(bank.accounts[["account_id", "opening_balance"]])
    counts = {
        f"raw.{SOURCE}_{name}": len(getattr(bank, name))
        for name in ("regions", "branches", "customers", "accounts", "loans")
    }
    counts[f"raw.{SOURCE}_transactions"] = _land_transactions(
        spark, _history_rows(spark, spec, bank), opening, spec.seed, spec.end
    )
    manifest = {"spec": asdict(spec), "batches": [spec.end]}
    _manifest_path().write_text(json.dumps(manifest, indent=2))
    config.set_core_source(SOURCE)
    return counts


def _manifest_path() -> Path:
    return raw.landing_path(SOURCE, "") / MANIFEST


def _manifest() -> dict | None:
    """What ``generate`` recorded (its spec, the batches landed since), or None."""
    path = _manifest_path()
    return json.loads(path.read_text()) if path.exists() else None


def generated_spec() -> Spec | None:
    """The spec of the data last generated into this warehouse, or None when there is none."""
    manifest = _manifest()
    return Spec(**manifest["spec"]) if manifest else None


def land_next_day(spark: SparkSession) -> tuple[str, int]:
    """Land the business day after the last batch; return its date and transaction count."""
    manifest = _manifest()
    if manifest is None:
        raise RuntimeError("no generated data to extend: run `frontier generate` first")
    spec = Spec(**manifest["spec"])
    day = dt.date.fromisoformat(manifest["batches"][-1]) + dt.timedelta(days=1)
    bank = draw_bank(spec)
    period = spec.period

    # Each account keeps its historical pace, scaled by how busy this day is.
    weights = np.array(
        [calendar.day_weight(d, period.start) for d in calendar.days(period.start, period.end)]
    )
    acct = bank.accounts
    active_weight = weights.sum() * (
        1 - acct["share_before_open"].to_numpy() - acct["share_after_close"].to_numpy()
    )
    pace = acct["n_transactions"].to_numpy() / np.maximum(active_weight, 1e-9)
    still_here = acct["closed_idx"].to_numpy() > (day - period.start).days
    lam = pace * calendar.day_weight(day, period.start) * still_here
    rng = np.random.default_rng([spec.seed, day.toordinal()])
    counts = rng.poisson(lam)

    profile = bank.accounts.assign(n_today=counts)
    profile = profile[profile["n_today"] > 0][
        ["account_id", "branch_id", "account_type", "risk", "income_factor", "n_today"]
    ]
    rows = spark.createDataFrame(profile).withColumn(
        "seq", F.explode(F.sequence(F.lit(0), F.col("n_today") - 1))
    )
    rows = (
        rows.withColumn("transaction_date", F.lit(day))
        .withColumn("is_burst", F.lit(False))
        .withColumn("burst_block", F.lit(0))
        .withColumn("burst_offset", F.lit(0))
        .withColumn(
            "transaction_id",
            F.concat(
                F.lit("T"), F.col("account_id").cast("string"), F.lit("-D"),
                F.lit(day.strftime("%Y%m%d")), F.lpad(F.col("seq").cast("string"), 3, "0"),
            ),
        )
    )  # fmt: skip
    latest = (
        spark.table(f"raw.{SOURCE}_transactions")
        .groupBy("account_id")
        .agg(
            F.max_by(F.col("balance_after").cast("double"), F.col("transaction_ts")).alias(
                "latest_balance"
            )
        )
    )
    opening = (
        spark.createDataFrame(bank.accounts[["account_id", "opening_balance"]])
        .join(
            latest.withColumn("account_id", F.col("account_id").cast("long")), "account_id", "left"
        )
        .select(
            "account_id", F.coalesce("latest_balance", "opening_balance").alias("opening_balance")
        )
    )
    n = _land_transactions(spark, rows, opening, spec.seed, day.isoformat())
    manifest["batches"].append(day.isoformat())
    _manifest_path().write_text(json.dumps(manifest, indent=2))
    return day.isoformat(), n


__all__ = ["Spec", "draw_bank", "generate", "land_next_day"]
