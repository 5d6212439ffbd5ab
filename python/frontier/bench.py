"""Benchmarks behind ``frontier bench``. Each returns a dict the command prints as its last line.

Benchmarks run in a warehouse of their own (``<warehouse>/../.warehouse-bench``), so they never
touch the demo's tables. Set ``FRONTIER_WAREHOUSE`` to put it elsewhere.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from frontier import config


def _use_bench_warehouse() -> Path:
    if "FRONTIER_WAREHOUSE" not in os.environ:
        os.environ["FRONTIER_WAREHOUSE"] = str(config.project_root() / ".warehouse-bench")
    return config.paths().home


def _timed(label: str, fn) -> float:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    print(f"[bench] {label}: {elapsed:.1f}s", file=sys.stderr, flush=True)
    return elapsed


def bench_build(transactions: int, seed: int) -> dict:
    """Full dbt build on N fresh transactions, then one more landed day built incrementally."""
    home = _use_bench_warehouse()
    from frontier import dbt
    from frontier.generator import Spec, generate, land_next_day
    from frontier.spark import get_spark

    spark = get_spark()
    print(f"[bench] warehouse {home}", file=sys.stderr)
    _timed(f"generate {transactions:,}", lambda: generate(spark, Spec(transactions, seed)))
    full_s = _timed("full dbt build", lambda: dbt.build(full_refresh=True))
    _timed("land one more day", lambda: land_next_day(spark))
    incremental_s = _timed("incremental dbt build", lambda: dbt.build())
    loaded = spark.table("marts.fct_transactions").count()
    return {
        "transactions": transactions,
        "fct_transactions_rows": loaded,
        "full_s": round(full_s, 1),
        "incremental_s": round(incremental_s, 1),
        "incremental_ratio": round(incremental_s / full_s, 3),
    }


def bench_predict(rows: int, train_rows: int = 200_000) -> dict:
    """Score N rows with a 50-tree depth-5 GBT on 8 features three ways, side by side.

    The SQL function is the compiled, persistent ``ml.bench_predict_gbt``; MLlib is
    ``PipelineModel.transform``; the Python UDF calls the plain-Python scorer row at a time. Each
    reads the same parquet file and sums the scores, so all three do the same I/O.
    """
    home = _use_bench_warehouse()
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    from frontier.ml import pipeline
    from frontier.spark import get_spark
    from udfs import compiler, forest

    spark = get_spark()
    print(f"[bench] warehouse {home}", file=sys.stderr)
    names = [f"x{i}" for i in range(8)]

    def features(n: int, seed: int):
        return spark.range(n).select(
            "id", *[(F.rand(seed + i) * 10).alias(c) for i, c in enumerate(names)]
        )

    train = features(train_rows, 0)
    label = F.col("x0") + F.col("x1") * F.col("x2") / 5 - F.col("x3") + F.rand(99) * 4 > 8
    train = train.withColumn("label", label.cast("double"))
    model_dir = str(home / "bench" / "predict_gbt")
    params = {"maxIter": 50, "maxDepth": 5}
    fitted = pipeline.build(names, [], "label", "gbt", True, params).fit(train)
    fitted.write().overwrite().save(model_dir)
    model = forest.load(pipeline.estimator_path(model_dir))
    arguments = pipeline.arguments(fitted)
    spark.sql(
        compiler.create_function(
            "ml.bench_predict_gbt", arguments, "DOUBLE",
            compiler.predict_sql(model, arguments), "frontier bench predict",
        )
    )  # fmt: skip

    data_dir = str(home / "bench" / "predict_rows")
    features(rows, 100).write.mode("overwrite").parquet(data_dir)
    scored = spark.read.parquet(data_dir)
    call = f"ml.bench_predict_gbt({', '.join(names)})"
    python_udf = F.udf(lambda *xs: model.predict(xs), "double")
    ways = {
        "sql_function": scored.select(F.expr(call).alias("score")),
        "mllib": fitted.transform(scored).select(vector_to_array("probability")[1].alias("score")),
        "python_udf": scored.select(python_udf(*names).alias("score")),
    }
    seconds = {}
    for way, frame in ways.items():
        if way != "python_udf":  # warm-up: code generation and JIT for the two JVM paths
            frame.agg(F.sum("score")).collect()
        seconds[way] = _timed(
            f"{way} on {rows:,} rows", lambda f=frame: f.agg(F.sum("score")).collect()
        )
    both = fitted.transform(scored).select(
        F.abs(F.expr(call) - vector_to_array("probability")[1]).alias("diff")
    )
    max_abs_diff = both.agg(F.max("diff")).first()[0]
    rate = {way: rows / s for way, s in seconds.items()}
    return {
        "rows": rows,
        "sql_function_rows_per_s": round(rate["sql_function"]),
        "mllib_rows_per_s": round(rate["mllib"]),
        "python_udf_rows_per_s": round(rate["python_udf"]),
        "ratio_vs_mllib": round(rate["sql_function"] / rate["mllib"], 2),
        "ratio_vs_python_udf": round(rate["sql_function"] / rate["python_udf"], 1),
        "max_abs_diff": max_abs_diff,
    }


def run(name: str, args: argparse.Namespace) -> dict:
    if name == "build":
        return bench_build(args.transactions, args.seed)
    if name == "predict":
        return bench_predict(args.rows)
    raise ValueError(f"unknown benchmark {name!r}")
