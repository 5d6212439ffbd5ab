"""Score live events with the ``txn_anomaly`` champion's SQL function.

The model was trained on ``features.feat_transaction_anomaly``; a live event gets the same
features from two places:

- the account's **profile** (mean, spread and maximum amount, foreign share, count over the last
  ``anomaly_profile_days`` of the warehouse's history, and the time of its last posting), read
  once from ``marts.fct_transactions`` when the stream starts;
- its **recent events** in the stream: the event times of each account over the last ten minutes,
  kept between batches as a small per-account frame (``Recent``), from which
  ``txn_count_prev_10_min`` and ``seconds_since_previous`` come as in the dbt model.

The score comes from the champion's saved pipeline, the artefact ``ml.predict_txn_anomaly`` was
compiled from (the two agree to 1e-15, tests/test_udfs_exactness.py): a micro-batch is a new query,
and planning the compiled SQL of a 40-tree model costs seconds per batch, the pipeline a few
milliseconds. An alert's reasons are the three largest path contributions, the numbers
``ml.explain_txn_anomaly`` gives, computed on the driver for the few rows over the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from frontier import config
from frontier.ml import declarations, pipeline, registry
from udfs import forest
from udfs.forest import Forest

MODEL = "txn_anomaly"
BURST_SECONDS = 600


@dataclass(frozen=True)
class Model:
    version: int
    arguments: list[str]  # feature names, in the order of the model's vector
    threshold: float
    pipeline: PipelineModel
    forest: Forest


def champion(spark: SparkSession) -> Model | None:
    found = registry.champion(spark, MODEL)
    if found is None:
        return None
    fitted = PipelineModel.load(found["model_path"])
    return Model(
        version=found["version"],
        arguments=[a.name for a in pipeline.arguments(fitted)],
        threshold=declarations.load(MODEL).threshold,
        pipeline=fitted,
        forest=forest.load(pipeline.estimator_path(found["model_path"])),
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
            "last_posting_at timestamp",
        )  # fmt: skip
    recent = txns.where(F.col("transaction_date") > F.date_sub(F.lit(latest), days))
    amount = F.col("amount_czk").cast("double")
    return recent.groupBy("account_id").agg(
        F.avg(amount).alias("profile_mean_amount"),
        F.stddev_pop(amount).alias("profile_stddev_amount"),
        F.max(amount).alias("profile_max_amount"),
        F.avg(F.col("is_foreign").cast("int")).alias("profile_foreign_share"),
        F.count("*").alias("profile_txn_count"),
        F.max("transaction_at").alias("last_posting_at"),
    )


def recent_from(events: DataFrame, now_seconds: int) -> DataFrame:
    """The per-account event times (epoch seconds) of ``events`` in the last ten minutes."""
    t = F.unix_timestamp("event_at")
    return (
        events.where(t >= now_seconds - BURST_SECONDS)
        .groupBy("account_id")
        .agg(F.collect_list(t).alias("recent_seconds"))
    )


def features(valid: DataFrame, recent: DataFrame, profile: DataFrame) -> DataFrame:
    """Valid events -> the columns ``feat_transaction_anomaly`` gives the model."""
    t = F.unix_timestamp("event_at")
    batch_times = valid.groupBy("account_id").agg(F.collect_list(t).alias("_batch_seconds"))
    times = batch_times.join(recent, "account_id", "left").select(
        "account_id",
        F.concat(
            F.coalesce("recent_seconds", F.array().cast("array<bigint>")), "_batch_seconds"
        ).alias("_seconds"),
    )
    amount = F.col("amount_czk").cast("double")
    previous_in_stream = F.expr("array_max(filter(_seconds, x -> x < _t))")
    previous_in_history = F.unix_timestamp("last_posting_at")
    return (
        valid.withColumn("_t", t)
        .join(times, "account_id", "left")
        .join(F.broadcast(profile), "account_id", "left")
        .withColumn("is_foreign", (F.col("country_code") != "CZ").cast("int"))
        .withColumn("hour_of_day", F.hour("event_at"))
        .withColumn("amount_to_profile_mean", amount / F.nullif("profile_mean_amount", F.lit(0.0)))
        .withColumn(
            "amount_zscore",
            (amount - F.col("profile_mean_amount")) / F.nullif("profile_stddev_amount", F.lit(0.0)),
        )
        .withColumn("amount_to_profile_max", amount / F.nullif("profile_max_amount", F.lit(0.0)))
        .withColumn(
            "txn_count_prev_10_min",
            F.expr(f"size(filter(_seconds, x -> x >= _t - {BURST_SECONDS} and x <= _t - 1))"),
        )
        .withColumn(
            "seconds_since_previous",
            F.col("_t") - F.coalesce(previous_in_stream, previous_in_history),
        )
        .withColumn("profile_txn_count", F.coalesce("profile_txn_count", F.lit(0)))
        .drop("_t", "_seconds")
    )


def next_recent(recent: DataFrame, valid: DataFrame, now_seconds: int) -> DataFrame:
    """The recent-events frame after a batch: old and new times, the last ten minutes only."""
    added = recent_from(valid, now_seconds)
    merged = (
        recent.unionByName(added)
        .groupBy("account_id")
        .agg(F.flatten(F.collect_list("recent_seconds")).alias("recent_seconds"))
    )
    kept = F.expr(f"filter(recent_seconds, x -> x >= {now_seconds - BURST_SECONDS})")
    return merged.select("account_id", kept.alias("recent_seconds")).where(
        F.size("recent_seconds") > 0
    )


def score(featured: DataFrame, model: Model) -> DataFrame:
    """Add ``anomaly_score`` (class-1 probability) and the model's ``features`` vector."""
    scored = model.pipeline.transform(featured)
    added = [c for c in scored.columns if c not in featured.columns and c != pipeline.FEATURES]
    return scored.withColumn("anomaly_score", vector_to_array("probability")[1]).drop(*added)


def reasons(model: Model, vectors: Sequence, top: int = 3) -> list[str]:
    """Per feature vector, the ``top`` features by absolute path contribution, as
    ``feature (+0.420); ...``."""
    if not vectors:
        return []
    contributions = model.forest.contributions_many(np.array([v.toArray() for v in vectors]))
    ranked = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top]
    return [
        "; ".join(f"{model.arguments[f]} ({row[f]:+.3f})" for f in order)
        for row, order in zip(contributions, ranked, strict=True)
    ]
