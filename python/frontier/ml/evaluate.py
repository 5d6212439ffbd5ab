"""Holdout metrics, computed in Spark from a frame of ``label`` and ``score`` columns.

Each function returns ``[(metric, decile, value)]`` rows for ``ml.model_metrics``; ``decile`` is
set only for the calibration table (mean score and observed rate per score decile).
"""

from __future__ import annotations

from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

Metric = tuple[str, int | None, float | None]
EPSILON = 1e-15


def classification(scored: DataFrame, threshold: float) -> list[Metric]:
    """AUC-ROC, AUC-PR, log loss, accuracy, precision/recall/F1 at the threshold, calibration."""
    scored = scored.select(F.col("label").cast("double"), F.col("score").cast("double")).cache()
    evaluator = BinaryClassificationEvaluator(rawPredictionCol="score", labelCol="label")
    p = F.least(F.greatest(F.col("score"), F.lit(EPSILON)), F.lit(1 - EPSILON))
    flagged = F.col("score") >= threshold
    positive = F.col("label") == 1
    row = scored.agg(
        F.count("*").alias("n"),
        F.avg("label").alias("base_rate"),
        F.avg(-(F.col("label") * F.log(p) + (1 - F.col("label")) * F.log(1 - p))).alias("log_loss"),
        F.avg((flagged == positive).cast("double")).alias("accuracy"),
        F.sum((flagged & positive).cast("double")).alias("tp"),
        F.sum(flagged.cast("double")).alias("flagged"),
        F.sum(positive.cast("double")).alias("positives"),
    ).first()
    precision = row.tp / row.flagged if row.flagged else None
    recall = row.tp / row.positives if row.positives else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall > 0
        else None
    )
    metrics: list[Metric] = [
        ("auc_roc", None, evaluator.evaluate(scored, {evaluator.metricName: "areaUnderROC"})),
        ("auc_pr", None, evaluator.evaluate(scored, {evaluator.metricName: "areaUnderPR"})),
        ("log_loss", None, row.log_loss),
        ("accuracy", None, row.accuracy),
        ("precision", None, precision),
        ("recall", None, recall),
        ("f1", None, f1),
        ("threshold", None, threshold),
        ("base_rate", None, row.base_rate),
        ("rows", None, float(row.n)),
    ]
    deciles = (
        scored.withColumn("decile", F.ntile(10).over(Window.orderBy("score")))
        .groupBy("decile")
        .agg(F.avg("score").alias("mean_score"), F.avg("label").alias("observed_rate"))
        .orderBy("decile")
        .collect()
    )
    for d in deciles:
        metrics.append(("calibration_mean_score", d.decile, d.mean_score))
        metrics.append(("calibration_observed_rate", d.decile, d.observed_rate))
    scored.unpersist()
    return metrics


def regression(scored: DataFrame, naive_mae: float | None = None) -> list[Metric]:
    """MAE, RMSE, MAPE (over non-zero labels), R², and MASE when a naive scale is given.

    MASE divides the holdout MAE by ``naive_mae``, the in-sample MAE of the seasonal-naive
    forecast on the training window (Hyndman and Koehler's definition): below 1 beats it.
    """
    error = F.col("score") - F.col("label")
    row = scored.agg(
        F.count("*").alias("n"),
        F.avg(F.abs(error)).alias("mae"),
        F.sqrt(F.avg(error * error)).alias("rmse"),
        F.avg(F.when(F.col("label") != 0, F.abs(error / F.col("label")))).alias("mape"),
        F.var_pop("label").alias("variance"),
        F.avg(error * error).alias("mse"),
    ).first()
    r2 = 1 - row.mse / row.variance if row.variance else None
    metrics: list[Metric] = [
        ("mae", None, row.mae),
        ("rmse", None, row.rmse),
        ("mape", None, row.mape),
        ("r2", None, r2),
        ("rows", None, float(row.n)),
    ]
    if naive_mae:
        metrics.append(("mase", None, row.mae / naive_mae))
    return metrics
