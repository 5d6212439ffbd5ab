"""``frontier train``: fit every declared algorithm on the past, evaluate on the most recent period,
register the better one as champion and compile it into SQL functions.

Nothing is registered until every candidate has trained, been evaluated and compiled: a bad
declaration or an untrainable table fails with a message and leaves the ``ml`` tables, the
functions and the saved models as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from frontier import config
from frontier.ml import evaluate, pipeline, registry
from frontier.ml.declarations import Declaration, DeclarationError, resolve
from udfs import forest, functions


@dataclass
class Split:
    train: DataFrame
    holdout: DataFrame
    window: dict  # training_window_start/end, holdout_start/end
    train_rows: int
    holdout_rows: int
    folds: int | None = None  # k-fold cross-validation: train and holdout are all rows, by FOLD

    @property
    def dataset(self) -> str:
        """What the metrics were computed on, as ``ml.model_metrics.dataset`` records it."""
        return "cross_validation" if self.folds else "holdout"


FOLD = "__fold"


@dataclass
class Candidate:
    algorithm: str
    params: dict
    version: int
    path: Path
    model: PipelineModel
    metrics: list[evaluate.Metric] = field(default_factory=list)

    def metric(self, name: str) -> float:
        return next(v for m, d, v in self.metrics if m == name and d is None)


@dataclass
class TrainResult:
    declaration: Declaration
    champion: Candidate
    candidates: list[Candidate]
    split: Split


def _log(message: str) -> None:
    print(f"[train] {message}", file=sys.stderr, flush=True)


def model_dir(model_name: str, version: int) -> Path:
    return config.paths().models / model_name / f"v{version}"


def labelled(spark: SparkSession, d: Declaration) -> DataFrame:
    """The declared table's rows that carry a label, with the label as a double."""
    frame = spark.table(d.table).where(F.col(d.label).isNotNull())
    return frame.withColumn(d.label, F.col(d.label).cast("double"))


def split(frame: DataFrame, d: Declaration) -> Split:
    """Hold out rows for evaluation, as the declaration says.

    With a time column: train on the past, hold out the most recent period (``days``: the last N
    days of labelled rows; ``fraction``: that share of the rows, by time; ``start``: every row from
    that date on). Without one: a ``fraction`` of the rows drawn by a seeded hash of the key (of
    the whole row when there is no key), the same rows whatever the partitioning. Small tables
    declared with ``cross_validation`` get k folds by the same hash instead.
    """
    draw = F.xxhash64(*([d.key] if d.key else frame.columns), F.lit(d.holdout_seed))
    rows = frame.count()
    if not rows:
        raise DeclarationError(f"{d.name}: {d.table} has no labelled rows")
    if d.cross_validates(rows):
        return _folds(frame.withColumn(FOLD, F.pmod(draw, F.lit(d.cv_folds))), d, rows)
    if d.time_column is None:
        is_holdout = F.pmod(draw, F.lit(1_000_000)) < int(d.holdout_fraction * 1_000_000)
    else:
        is_holdout = F.col(d.time_column).cast("date") >= _cutoff(frame, d)
    train, holdout = frame.where(~is_holdout), frame.where(is_holdout)
    time = F.col(d.time_column) if d.time_column else F.lit(None).cast("date")
    stats = frame.agg(
        F.sum((~is_holdout).cast("int")).alias("train_rows"),
        F.sum(is_holdout.cast("int")).alias("holdout_rows"),
        F.min(F.when(~is_holdout, time)).alias("training_window_start"),
        F.max(F.when(~is_holdout, time)).alias("training_window_end"),
        F.min(F.when(is_holdout, time)).alias("holdout_start"),
        F.max(F.when(is_holdout, time)).alias("holdout_end"),
    ).first()
    if not stats.holdout_rows:
        raise DeclarationError(f"{d.name}: no rows in the holdout window of {d.table}")
    if not stats.train_rows:
        raise DeclarationError(f"{d.name}: no rows before the holdout window of {d.table}")
    _check_classes(train, d)
    window = {k: _date(stats[k]) for k in ("training_window_start", "training_window_end",
                                           "holdout_start", "holdout_end")}  # fmt: skip
    return Split(train, holdout, window, stats.train_rows, stats.holdout_rows)


def _cutoff(frame: DataFrame, d: Declaration) -> Column:
    """First holdout date of a time-ordered split."""
    time = F.col(d.time_column)
    if d.holdout_start is not None:
        return F.lit(d.holdout_start).cast("date")
    if d.holdout_days is not None:
        last = frame.agg(F.max(time)).first()[0]
        return F.date_sub(F.lit(last).cast("date"), d.holdout_days - 1)
    day = F.unix_date(time.cast("date"))
    cut = frame.agg(F.percentile_approx(day, 1 - d.holdout_fraction).alias("c")).first().c
    return F.date_from_unix_date(F.lit(cut))


def _folds(frame: DataFrame, d: Declaration, rows: int) -> Split:
    """Every row is scored once by a model that did not see it; the champion then fits on all."""
    _check_classes(frame, d)
    window: dict = dict.fromkeys(("training_window_start", "training_window_end",
                                  "holdout_start", "holdout_end"))  # fmt: skip
    if d.time_column:
        first, last = frame.agg(F.min(d.time_column), F.max(d.time_column)).first()
        window = {k: _date(v) for k, v in zip(window, (first, last, first, last), strict=True)}
    return Split(frame, frame, window, rows, rows, folds=d.cv_folds)


def _check_classes(train: DataFrame, d: Declaration) -> None:
    if d.is_classifier and train.agg(F.countDistinct(d.label)).first()[0] < 2:
        raise DeclarationError(f"{d.name}: label {d.label} has a single class in the training rows")


def _date(value: dt.date | dt.datetime | None) -> dt.date | None:
    """Window bounds as dates, whether the time column holds dates or timestamps."""
    return value.date() if isinstance(value, dt.datetime) else value


def score_column(d: Declaration) -> Column:
    if d.is_classifier:
        return vector_to_array("probability")[1]
    return F.col("prediction")


def fit(d: Declaration, data: Split, algorithm: str, params: dict, version: int) -> Candidate:
    estimator = pipeline.build(
        list(d.numeric), list(d.categorical), d.label, algorithm, d.is_classifier, params
    )
    _log(f"{d.name} v{version}: fitting {algorithm} {json.dumps(params)}")
    if data.folds:
        fold = F.col(FOLD)
        parts = [
            estimator.fit(_sample(d, data.train.where(fold != k))).transform(
                data.train.where(fold == k)
            )
            for k in range(data.folds)
        ]
        holdout = reduce(DataFrame.unionByName, parts)
    model = estimator.fit(_sample(d, data.train))
    if not data.folds:
        holdout = model.transform(data.holdout)
    holdout = holdout.withColumn("score", score_column(d)).cache()
    scored = holdout.select(F.col(d.label).alias("label"), "score")
    if d.is_classifier:
        metrics = evaluate.classification(scored, d.threshold)
    else:
        metrics = evaluate.regression(scored, naive_scale(d, data.train))
        if not data.folds:
            metrics += forecast_baseline(d, data, holdout)
    holdout.unpersist()
    path = model_dir(d.name, version)
    model.write().overwrite().save(str(path))
    return Candidate(algorithm, params, version, path, model, metrics)


def _sample(d: Declaration, train: DataFrame) -> DataFrame:
    """The declared share of the label-0 rows, all the positives (rare-positive models)."""
    if d.is_classifier and d.negative_sample:
        return train.sampleBy(d.label, {0.0: d.negative_sample, 1.0: 1.0}, seed=7)
    return train


def naive_scale(d: Declaration, train: DataFrame) -> float | None:
    """In-sample MAE of the seasonal-naive forecast (the MASE denominator), if declared."""
    lag = (d.forecast or {}).get("season_lag_column")
    if not lag:
        return None
    return train.agg(F.avg(F.abs(F.col(d.label) - F.col(lag)))).first()[0]


def forecast_baseline(d: Declaration, data: Split, scored: DataFrame) -> list[evaluate.Metric]:
    """Holdout MAE of the seasonal-naive forecast from the last training day, and our ratio to it.

    For a horizon of h days the seasonal-naive forecast repeats the last observed week: the value
    ``season * ceil(h / season)`` days earlier, which the declaration maps to lag columns.
    """
    forecast = d.forecast or {}
    lags = {int(k): v for k, v in (forecast.get("naive_lag_columns") or {}).items()}
    if not lags:
        return []
    origin = F.lit(data.window["training_window_end"]).cast("date")
    horizon = F.datediff(F.col(d.time_column).cast("date"), origin)
    naive = None
    for days in sorted(lags, reverse=True):
        naive = (
            F.when(horizon <= days, F.col(lags[days]))
            if naive is None
            else F.when(horizon <= days, F.col(lags[days])).otherwise(naive)
        )
    row = scored.agg(
        F.avg(F.abs(naive - F.col(d.label))).alias("naive"),
        F.avg(F.abs(F.col("score") - F.col(d.label))).alias("model"),
    ).first()
    ratio = row.model / row.naive if row.naive else None
    return [("mae_seasonal_naive", None, row.naive), ("mae_ratio_vs_seasonal_naive", None, ratio)]


def importance(d: Declaration, candidate: Candidate) -> list[tuple]:
    values = candidate.model.stages[-1].featureImportances.toArray()
    ranked = sorted(zip(d.features, values, strict=True), key=lambda fv: -fv[1])
    return [
        (d.name, candidate.version, feature, float(value), rank)
        for rank, (feature, value) in enumerate(ranked, start=1)
    ]


def better(d: Declaration, a: Candidate, b: Candidate) -> Candidate:
    metric = d.selection_metric
    lower_is_better = metric in {"mae", "rmse", "mape", "mase", "log_loss"}
    if lower_is_better:
        return a if a.metric(metric) <= b.metric(metric) else b
    return a if a.metric(metric) >= b.metric(metric) else b


def train(spark: SparkSession, d: Declaration) -> TrainResult:
    """Train, evaluate, compile and register one declared model."""
    d = resolve(spark, d)
    registry.ensure_tables(spark)
    data = split(labelled(spark, d), d)
    if data.folds:
        _log(f"{d.name}: {data.train_rows:,} rows, {data.folds}-fold cross-validation")
    else:
        _log(f"{d.name}: {data.train_rows:,} training rows, {data.holdout_rows:,} holdout rows")
    data.train.cache()
    first_version = registry.next_version(spark, d.name)
    candidates: list[Candidate] = []
    try:
        for offset, (algorithm, params) in enumerate(d.algorithms.items()):
            candidates.append(fit(d, data, algorithm, params, first_version + offset))
        best = candidates[0]
        for c in candidates[1:]:
            best = better(d, best, c)
        describe = d.description.split(".")[0] or d.name
        sql: list[str] = []
        for c in candidates:
            compiled = forest.load(pipeline.estimator_path(c.path))
            c_arguments = pipeline.arguments(c.model)
            sql += functions.statements(d.name, c.version, compiled, c_arguments, describe)
            if c is best:
                arguments = c_arguments
                sql += functions.champion_statements(
                    d.name, c.version, compiled, arguments, describe
                )
    except Exception:
        for c in candidates:
            shutil.rmtree(c.path, ignore_errors=True)
        raise
    finally:
        data.train.unpersist()

    functions.install(spark, sql)
    trained_at = registry.now()
    registry.append(
        spark, registry.METRICS,
        [(d.name, c.version, c.algorithm, data.dataset, m, dec, None if v is None else float(v),
          trained_at) for c in candidates for m, dec, v in c.metrics],
    )  # fmt: skip
    registry.append(spark, registry.IMPORTANCE, [r for c in candidates for r in importance(d, c)])
    registry.register(
        spark,
        [
            {
                "model_name": d.name, "version": c.version, "algorithm": c.algorithm,
                "task": d.task, "label": d.label, "feature_table": d.table,
                "features": [a.name for a in arguments], "parameters": json.dumps(c.params),
                **data.window, "train_rows": data.train_rows, "holdout_rows": data.holdout_rows,
                "selection_metric": d.selection_metric,
                "selection_value": c.metric(d.selection_metric), "model_path": str(c.path),
                "function_name": functions.name("predict", d.name, c.version),
                "trained_at": trained_at,
            }
            for c in candidates
        ],
        champion_version=best.version,
    )  # fmt: skip
    _log(
        f"{d.name}: champion v{best.version} ({best.algorithm}), "
        f"{d.selection_metric} {best.metric(d.selection_metric):.4f}; "
        f"call {functions.name('predict', d.name)}(...)"
    )
    return TrainResult(d, best, candidates, data)
