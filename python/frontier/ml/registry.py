"""The ``ml`` tables: model registry, metrics, feature importance, feature drift.

Small tables, read whole and rewritten whole when statuses change, so a registration is one
overwrite of ``ml.model_registry`` after everything else about the run has been written.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession

REGISTRY = "ml.model_registry"
METRICS = "ml.model_metrics"
IMPORTANCE = "ml.feature_importance"
DRIFT = "ml.feature_drift"

SCHEMAS = {
    REGISTRY: """
        model_name string, version int, algorithm string, task string, label string,
        feature_table string, features array<string>, parameters string,
        training_window_start date, training_window_end date,
        holdout_start date, holdout_end date, train_rows bigint, holdout_rows bigint,
        selection_metric string, selection_value double, model_path string,
        function_name string, trained_at timestamp, status string
    """,
    METRICS: """
        model_name string, version int, algorithm string, dataset string, metric string,
        decile int, value double, computed_at timestamp
    """,
    IMPORTANCE: "model_name string, version int, feature string, importance double, rank int",
    DRIFT: """
        model_name string, version int, feature string, psi double, drift_level string,
        reference_start date, reference_end date, current_start date, current_end date,
        reference_rows bigint, current_rows bigint, computed_at timestamp
    """,
}


def ensure_tables(spark: SparkSession) -> None:
    for table, schema in SCHEMAS.items():
        spark.sql(f"create table if not exists {table} ({' '.join(schema.split())}) using parquet")


def frame(spark: SparkSession, table: str, rows: list[tuple]) -> DataFrame:
    return spark.createDataFrame(rows, " ".join(SCHEMAS[table].split()))


def append(spark: SparkSession, table: str, rows: list[tuple]) -> None:
    if rows:
        frame(spark, table, rows).write.insertInto(table)


def next_version(spark: SparkSession, model_name: str) -> int:
    ensure_tables(spark)
    latest = (
        spark.table(REGISTRY).where(f"model_name = '{model_name}'").agg({"version": "max"}).first()
    )
    return (latest[0] or 0) + 1


def register(spark: SparkSession, rows: list[dict], champion_version: int) -> None:
    """Add a run's candidates; the new champion retires the old one, the rest are challengers."""
    model_name = rows[0]["model_name"]
    existing = [r.asDict() for r in spark.table(REGISTRY).collect()]
    for r in existing:
        if r["model_name"] == model_name and r["status"] != "retired":
            r["status"] = "retired"
    for r in rows:
        r["status"] = "champion" if r["version"] == champion_version else "challenger"
    columns = spark.table(REGISTRY).columns
    # The rows are on the driver already, so overwriting the table they came from is safe.
    table = frame(spark, REGISTRY, [tuple(r[c] for c in columns) for r in existing + rows])
    table.write.insertInto(REGISTRY, overwrite=True)


def champion(spark: SparkSession, model_name: str) -> dict | None:
    ensure_tables(spark)
    rows = (
        spark.table(REGISTRY)
        .where(f"model_name = '{model_name}' and status = 'champion'")
        .collect()
    )
    return rows[0].asDict() if rows else None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
