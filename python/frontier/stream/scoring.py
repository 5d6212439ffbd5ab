"""Score live events with the ``txn_anomaly`` champion, on the driver.

The model was trained on ``features.feat_transaction_anomaly``; a live event gets the same
features from two places:

- the account's **profile** (mean, spread and maximum amount, foreign share, count over the last
  ``anomaly_profile_days`` of the warehouse's history, and the time of its last posting), read
  once from ``marts.fct_transactions`` when the stream starts (``Accounts``);
- its **recent events** in the stream: each account's event times over the last ten minutes,
  kept between batches (``Recent``), from which ``txn_count_prev_10_min`` and
  ``seconds_since_previous`` come as in the dbt model.

A micro-batch's valid events are already on the driver (job.py), so the score comes from the
champion's saved trees walked with numpy (``udfs.forest``, fed the vectors the saved pipeline
would build: ``pipeline.vectors``). It equals ``model.transform`` and the SQL function
``ml.predict_txn_anomaly`` to 1e-9 (tests/test_udfs_exactness.py) and costs milliseconds,
where a Spark job per batch costs a second. An alert's reasons are the three largest path
contributions, the numbers ``ml.explain_txn_anomaly`` gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from frontier import config
from frontier.ml import declarations, pipeline, registry
from udfs import forest
from udfs.compiler import Argument
from udfs.forest import Forest

MODEL = "txn_anomaly"
BURST_SECONDS = 600
PROFILE_COLUMNS = (
    "profile_mean_amount", "profile_stddev_amount", "profile_max_amount",
    "profile_foreign_share", "profile_txn_count", "last_posting_seconds",
)  # fmt: skip


@dataclass(frozen=True)
class Model:
    version: int
    arguments: list[Argument]  # in the order of the model's vector, with category labels
    threshold: float
    forest: Forest


def champion(spark: SparkSession) -> Model | None:
    found = registry.champion(spark, MODEL)
    if found is None:
        return None
    fitted = PipelineModel.load(found["model_path"])
    return Model(
        version=found["version"],
        arguments=pipeline.arguments(fitted),
        threshold=declarations.load(MODEL).threshold,
        forest=forest.load(pipeline.estimator_path(found["model_path"])),
    )


@dataclass(frozen=True)
class Accounts:
    """The warehouse's accounts on the driver, read once when the stream starts.

    ``ids`` is sorted, so an account's position in it is its ``code``; ``region_id`` (for the
    live aggregates) and the ``profile`` columns (NaN for an account without recent history) are
    aligned with it.
    """

    ids: np.ndarray
    region_id: np.ndarray
    profile: dict[str, np.ndarray]

    def code(self, account_ids: np.ndarray) -> np.ndarray:
        """Positions of known account ids (every valid event's account is known)."""
        return np.searchsorted(self.ids, account_ids)


def accounts(spark: SparkSession) -> Accounts:
    known = (
        spark.table("marts.dim_accounts").select("account_id", "region_id").toArrow().to_pandas()
    )
    known = known.sort_values("account_id").set_index("account_id")
    profile = profiles(spark).toArrow().to_pandas().set_index("account_id").reindex(known.index)
    return Accounts(
        ids=known.index.to_numpy(dtype=np.int64),
        region_id=known["region_id"].to_numpy(dtype=float, na_value=np.nan),
        profile={c: profile[c].to_numpy(dtype=float, na_value=np.nan) for c in PROFILE_COLUMNS},
    )


def profiles(spark: SparkSession) -> DataFrame:
    """One row per account: its amount profile over the last ``anomaly_profile_days`` of history."""
    days = int(config.dbt_var("anomaly_profile_days"))
    txns = spark.table("marts.fct_transactions")
    latest = txns.agg(F.max("transaction_date")).first()[0]
    if latest is None:
        return spark.createDataFrame(
            [], "account_id bigint, profile_mean_amount double, profile_stddev_amount double, "
            "profile_max_amount double, profile_foreign_share double, profile_txn_count bigint, "
            "last_posting_seconds bigint",
        )  # fmt: skip
    recent = txns.where(F.col("transaction_date") > F.date_sub(F.lit(latest), days))
    amount = F.col("amount_czk").cast("double")
    return recent.groupBy("account_id").agg(
        F.avg(amount).alias("profile_mean_amount"),
        F.stddev_pop(amount).alias("profile_stddev_amount"),
        F.max(amount).alias("profile_max_amount"),
        F.avg(F.col("is_foreign").cast("int")).alias("profile_foreign_share"),
        F.count("*").alias("profile_txn_count"),
        F.unix_timestamp(F.max("transaction_at")).alias("last_posting_seconds"),
    )


_SECONDS_BITS = 32  # epoch seconds fit in 32 bits until 2106
_SECONDS_MASK = (1 << _SECONDS_BITS) - 1


def _keys(codes: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    return (codes.astype(np.int64) << _SECONDS_BITS) | seconds.astype(np.int64)


@dataclass(frozen=True)
class Recent:
    """The stream's valid events of the last ten minutes as sorted ``account code << 32 | epoch
    second`` keys: one sorted array answers "events of this account between t1 and t2"."""

    keys: np.ndarray

    @classmethod
    def of(cls, codes: np.ndarray, seconds: np.ndarray, now_seconds: int) -> Recent:
        return cls(np.sort(_keys(codes, seconds), kind="stable")).since(now_seconds)

    def since(self, now_seconds: int) -> Recent:
        seconds = self.keys & _SECONDS_MASK
        return Recent(self.keys[seconds >= now_seconds - BURST_SECONDS])

    def with_batch(self, valid: pa.Table, known: Accounts) -> Recent:
        """These events and a batch's valid events (of known accounts)."""
        codes = known.code(valid["account_id"].to_numpy())
        merged = np.concatenate([self.keys, _keys(codes, event_seconds(valid["event_at"]))])
        return Recent(np.sort(merged, kind="stable"))  # a merge of sorted runs


def event_seconds(event_at: pa.ChunkedArray) -> np.ndarray:
    """Epoch seconds, floored as Spark's ``unix_timestamp``."""
    return event_at.cast(pa.int64()).to_numpy() // 1_000_000


def features(valid: pa.Table, recent: Recent, known: Accounts) -> pd.DataFrame:
    """Valid events -> the columns ``feat_transaction_anomaly`` gives the model.

    ``recent`` holds the stream's recent events with this batch's already added
    (``Recent.with_batch``): an event's burst window holds the earlier events of the batch too,
    as the dbt model's window does.
    """
    t = event_seconds(valid["event_at"])
    codes = known.code(valid["account_id"].to_numpy())
    keys = _keys(codes, t)
    in_burst = np.searchsorted(recent.keys, keys - 1, "right") - np.searchsorted(
        recent.keys, keys - BURST_SECONDS, "left"
    )
    before = np.searchsorted(recent.keys, keys, "left") - 1
    previous_key = recent.keys[np.maximum(before, 0)]
    same_account = (before >= 0) & ((previous_key >> _SECONDS_BITS) == codes)
    previous = np.where(same_account, previous_key & _SECONDS_MASK, np.nan)
    profile = {name: values[codes] for name, values in known.profile.items()}
    previous = np.where(np.isnan(previous), profile["last_posting_seconds"], previous)

    amount = to_double(valid["amount_czk"])
    country = valid["country_code"].to_numpy(zero_copy_only=False)
    return pd.DataFrame(
        {
            "amount_czk": amount,
            "hour_of_day": (t // 3600) % 24,  # the session time zone is UTC
            "is_foreign": (country != "CZ").astype(float),
            "amount_to_profile_mean": _ratio(amount, profile["profile_mean_amount"]),
            "amount_zscore": _ratio(
                amount - profile["profile_mean_amount"], profile["profile_stddev_amount"]
            ),
            "amount_to_profile_max": _ratio(amount, profile["profile_max_amount"]),
            "profile_foreign_share": profile["profile_foreign_share"],
            "profile_txn_count": np.nan_to_num(profile["profile_txn_count"], nan=0.0),
            "txn_count_prev_10_min": in_burst.astype(float),
            "seconds_since_previous": t - previous,
            "channel": valid["channel"].to_numpy(zero_copy_only=False),
            "merchant_category": valid["merchant_category"].to_numpy(zero_copy_only=False),
            "direction": valid["direction"].to_numpy(zero_copy_only=False),
        }
    )


def to_double(decimals: pa.ChunkedArray) -> np.ndarray:
    """Decimals as the nearest doubles, as Spark's ``cast(x as double)`` gives them (pyarrow's
    decimal-to-double cast is one ulp off for about one value in eight)."""
    return decimals.cast(pa.string()).cast(pa.float64()).to_numpy()


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / nullif(denominator, 0)``: NaN (missing) where the denominator is 0 or NaN."""
    usable = ~np.isnan(denominator) & (denominator != 0)
    return np.divide(numerator, denominator, out=np.full(len(numerator), np.nan), where=usable)


def score(featured: pd.DataFrame, model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Class-1 probabilities, and the feature vectors they came from."""
    vectors = pipeline.vectors(model.arguments, featured)
    return model.forest.predict_many(vectors), vectors


def reasons(model: Model, vectors: np.ndarray, top: int = 3) -> list[str]:
    """Per feature vector, the ``top`` features by absolute path contribution, as
    ``feature (+0.420); ...``."""
    if not len(vectors):
        return []
    contributions = model.forest.contributions_many(vectors)
    ranked = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top]
    return [
        "; ".join(f"{model.arguments[f].name} ({row[f]:+.3f})" for f in order)
        for row, order in zip(contributions, ranked, strict=True)
    ]
