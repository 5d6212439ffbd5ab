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


def run(name: str, args: argparse.Namespace) -> dict:
    if name == "build":
        return bench_build(args.transactions, args.seed)
    raise ValueError(f"unknown benchmark {name!r}")
