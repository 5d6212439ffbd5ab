"""Write a volume forecast to ``marts.forecast_daily_volume``: the holdout days (with actuals, for
forecast-vs-actual charts) and the days after the last posting, each with a prediction interval.

The predictions come from the champion's SQL function, the same one any SQL client calls.
The interval is split-conformal: the holdout's absolute errors per channel give the half-width
that covered the declared share of actual values.
"""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from frontier.ml import registry
from frontier.ml.train import TrainResult
from udfs import functions

OUTPUT_SCHEMA = """
    forecast_date date, region_id int, channel string, predicted double, lower double,
    upper double, actual double, is_future boolean, model_name string, model_version int,
    origin_date date, generated_at timestamp, measure string
"""


def write(spark: SparkSession, result: TrainResult) -> int:
    """Forecast rows written for the declaration's measure (its partition is replaced)."""
    d = result.declaration
    spec = d.forecast or {}
    output = spec.get("output", "marts.forecast_daily_volume")
    spark.sql(
        f"create table if not exists {output} ({' '.join(OUTPUT_SCHEMA.split())}) "
        "using parquet partitioned by (measure)"
    )
    args = ", ".join(
        f"cast({c} as double)" if c in d.numeric else f"cast({c} as string)" for c in d.features
    )
    window = result.split.window
    rows = spark.table(d.table).where(
        (F.col(d.time_column) >= F.lit(window["holdout_start"]))
        | F.col(spec.get("future_flag", "is_future"))
    )
    # Volumes are not negative: a tree ensemble can undershoot zero on a quiet series.
    predicted = F.greatest(F.expr(f"{functions.name('predict', d.name)}({args})"), F.lit(0.0))
    scored = rows.withColumn("predicted", predicted).cache()
    coverage = float(spec.get("interval", 0.9))
    half_width = (
        scored.where(F.col(d.label).isNotNull())
        .groupBy("channel")
        .agg(F.percentile_approx(F.abs(F.col("predicted") - F.col(d.label)), coverage).alias("q"))
    )
    out = scored.join(half_width, "channel", "left").select(
        F.col(d.time_column).cast("date").alias("forecast_date"),
        F.col("region_id").cast("int"),
        "channel",
        "predicted",
        F.greatest(F.col("predicted") - F.col("q"), F.lit(0.0)).alias("lower"),
        (F.col("predicted") + F.col("q")).alias("upper"),
        F.col(d.label).cast("double").alias("actual"),
        F.col(spec.get("future_flag", "is_future")).alias("is_future"),
        F.lit(d.name).alias("model_name"),
        F.lit(result.champion.version).alias("model_version"),
        F.lit(window["training_window_end"]).cast("date").alias("origin_date"),
        F.lit(registry.now()).alias("generated_at"),
        F.lit(spec.get("measure", d.label)).alias("measure"),
    )
    out.write.insertInto(output, overwrite=True)
    written = out.count()
    scored.unpersist()
    return written
