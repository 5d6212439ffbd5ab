"""Benchmarks behind ``frontier bench``. Each returns a dict the command prints as its last line.

Benchmarks run in a warehouse of their own (``<warehouse>/../.warehouse-bench``), so they never
touch the demo's tables. Set ``FRONTIER_WAREHOUSE`` to put it elsewhere.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from frontier import config
from frontier.timing import timed


def _use_bench_warehouse() -> Path:
    if "FRONTIER_WAREHOUSE" not in os.environ:
        os.environ["FRONTIER_WAREHOUSE"] = str(config.project_root() / ".warehouse-bench")
    return config.paths().home


def _timed(label: str, fn) -> float:
    return timed("bench", label, fn)[1]


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
    from udfs import compiler, forest, functions

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
    functions.install(spark, [
        compiler.create_function(
            "ml.bench_predict_gbt", arguments, "DOUBLE",
            compiler.predict_sql(model, arguments), "frontier bench predict",
        )
    ])  # fmt: skip

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


# What a dashboard sends. The top-merchants query also filters on its table's partition column
# (transaction_month): Spark does not derive a partition filter from the transaction_date filter,
# so without it each query opens every month's file (one query alone: ~140 vs ~200 ms).
BI_QUERIES = {
    "daily_volume_30d": """
        select volume_date, channel, sum(transaction_count) as transactions,
               sum(amount_czk) as amount_czk
        from bi.bi_daily_volume
        where volume_date > date_sub(date'{last}', 30)
        group by volume_date, channel
        order by volume_date, channel""",
    "top_merchants_30d": """
        select merchant, merchant_category, sum(transaction_count) as transactions,
               sum(amount_czk) as amount_czk
        from bi.bi_merchant_daily_volume
        where transaction_date > date_sub(date'{last}', 30)
          and transaction_month >= trunc(date_sub(date'{last}', 30), 'MM')
        group by merchant, merchant_category
        order by amount_czk desc
        limit 20""",
    "customer_last_50": """
        select transaction_at, amount_czk, direction, channel, merchant_category, counterparty
        from bi.bi_customer_recent_transactions
        where customer_id = {customer_id}
        order by transaction_at desc
        limit 50""",
    "risk_by_segment": """
        select segment,
               case when p >= 0.5 then 'high' when p >= 0.3 then 'elevated' else 'low' end
                   as risk_band,
               count(*) as loans, avg(p) as mean_probability
        from (select segment, {predict} as p from features.feat_loan_default) as scored
        group by 1, 2""",
}


def bench_bi(clients: int, seconds: float, warmup: float = 300) -> dict:
    """Replay a dashboard's queries from C concurrent pyhive clients against ``frontier serve``.

    Runs on the bench warehouse (build it first with ``frontier bench build``) with a trained
    ``loan_default``; starts the Thrift server if none answers and stops it afterwards. The
    clients first run the same load for ``warmup`` seconds, unmeasured, so that the figures are
    those of a server in service rather than of a JVM still compiling Spark's code: on two cores
    a fresh server's JIT compiler takes about a core for its first minutes under this load
    (``jstat -compiler <pid>``; the README's benchmark section has the runs side by side).
    ``--warmup 60`` measures the young server.
    """
    import random
    import statistics
    import threading

    from pyhive import hive

    from frontier import serve

    _use_bench_warehouse()
    started = False
    if not serve.status().answering:
        serve.start()
        started = True
    current = serve.status()
    try:
        with hive.connect(host=current.host, port=current.port, username="bench") as conn:
            cursor = conn.cursor()
            cursor.execute("select max(volume_date) from marts.fct_daily_volume")
            last = cursor.fetchall()[0][0]
            cursor.execute("select customer_id from bi.bi_customers")
            customers = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                "select concat_ws(', ', features) from ml.model_registry "
                "where model_name = 'loan_default' and status = 'champion'"
            )
            found = cursor.fetchall()
        if not found:
            raise RuntimeError(
                "bench bi needs a loan_default champion: frontier train loan_default"
            )
        predict = f"ml.predict_loan_default({found[0][0]})"
        latencies: dict[str, list[float]] = {name: [] for name in BI_QUERIES}
        errors: list[str] = []
        lock = threading.Lock()
        warm = threading.Barrier(clients)
        warm_until = time.monotonic() + warmup
        deadline: list[float] = []

        def client(index: int) -> None:
            rng = random.Random(index)
            names = list(BI_QUERIES)
            with hive.connect(host=current.host, port=current.port, username=f"c{index}") as conn:
                cursor = conn.cursor()

                def run(name: str) -> float | None:
                    sql = BI_QUERIES[name].format(
                        last=last, customer_id=rng.choice(customers), predict=predict
                    )
                    begin = time.perf_counter()
                    try:
                        cursor.execute(sql)
                        cursor.fetchall()
                    except Exception as exc:  # counted and reported, never fatal to the run
                        with lock:
                            errors.append(f"{name}: {exc}")
                        return None
                    return (time.perf_counter() - begin) * 1000

                # Warm-up, not measured: the query set at least once, then the load until
                # warm_until (errors still count).
                for name in names:
                    run(name)
                step = index
                while time.monotonic() < warm_until:
                    run(names[step % len(names)])
                    step += 1
                if warm.wait(timeout=600) == 0:
                    deadline.append(time.monotonic() + seconds)
                warm.wait(timeout=600)
                step = index
                while time.monotonic() < deadline[0]:
                    name = names[step % len(names)]
                    step += 1
                    ms = run(name)
                    if ms is not None:
                        with lock:
                            latencies[name].append(ms)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        if started:
            serve.stop()
    for message in errors[:5]:
        print(f"[bench] error: {message}", file=sys.stderr)
    for name, values in latencies.items():
        if values:
            print(
                f"[bench] {name}: {len(values)} queries, median {statistics.median(values):.0f} ms",
                file=sys.stderr,
            )
    every = [ms for values in latencies.values() for ms in values]
    cuts = statistics.quantiles(every, n=100) if len(every) > 1 else [0.0] * 99
    return {
        "clients": clients,
        "queries": len(every),
        "p50_ms": round(cuts[49]),
        "p95_ms": round(cuts[94]),
        "errors": len(errors),
    }


def bench_stream(rate: float, seconds: float) -> dict:
    """The simulator (its own process) feeds the stream (this process) at ``rate`` events/s.

    Per event, latency = the micro-batch's commit time (its row in the batch log, written after
    its data) - the time its file landed (the simulator's manifest). Lost and duplicated events
    come from comparing each landed file's event count with the rows stored from it (valid plus
    quarantined). Runs on the bench warehouse (``frontier bench build`` first); trains
    ``txn_anomaly`` there when it has no champion, so the stream scores as it would in use.
    """
    import json
    import statistics
    import subprocess
    import tempfile

    from pyspark.sql import functions as F

    from frontier.ml import declarations
    from frontier.ml.train import train
    from frontier.spark import get_spark
    from frontier.stream import job, scoring

    home = _use_bench_warehouse()
    spark = get_spark()
    print(f"[bench] warehouse {home}", file=sys.stderr)
    if scoring.champion(spark) is None:
        _timed("train txn_anomaly", lambda: train(spark, declarations.load(scoring.MODEL)))
    job.reset(spark)
    manifest = Path(tempfile.mkdtemp()) / "feed.jsonl"
    feed_command = [
        sys.executable, "-m", "frontier.cli", "simulate", "--rate", str(rate),
        "--seconds", str(seconds), "--manifest", str(manifest),
    ]  # fmt: skip
    simulator: subprocess.Popen | None = None

    def landed_total() -> int:
        if not manifest.exists():
            return 0
        complete = manifest.read_text().rsplit("\n", 1)[0]  # the last line may be half written
        return sum(json.loads(line)["events"] for line in complete.splitlines() if line)

    def done(totals: dict) -> bool:
        nonlocal simulator
        if simulator is None:  # start the feed once the stream is up
            simulator = subprocess.Popen(feed_command, stdout=subprocess.DEVNULL)
            return False
        finished = simulator.poll() is not None
        return finished and totals["events"] >= landed_total()

    job.run(seconds=seconds + 600, until=done)
    if simulator is not None and simulator.poll() is None:
        simulator.kill()

    files = {}
    for line in manifest.read_text().splitlines():
        record = json.loads(line)
        files[record["file"]] = record
    for table in job.TABLES:
        spark.catalog.refreshTable(table.name)
    stored = (
        spark.table(job.TRANSACTIONS.name)
        .select("source_file", "stream_id", "stream_batch_id")
        .unionByName(
            spark.table(job.QUARANTINE.name).select("source_file", "stream_id", "stream_batch_id")
        )
        .join(spark.table(job.BATCHES.name), ["stream_id", "stream_batch_id"])
        .groupBy("source_file", "committed_at")
        .count()
        .collect()
    )
    per_file: dict[str, int] = {}
    latencies: list[float] = []
    last_commit = 0.0
    for row in stored:
        per_file[row.source_file] = per_file.get(row.source_file, 0) + row["count"]
        committed = row.committed_at.replace(tzinfo=dt.UTC).timestamp()
        last_commit = max(last_commit, committed)
        landed = files[row.source_file]["landed_at_ms"] / 1000
        latencies += [(committed - landed) * 1000] * row["count"]
    events = sum(r["events"] for r in files.values())
    lost = sum(max(0, r["events"] - per_file.get(name, 0)) for name, r in files.items())
    duplicated = sum(max(0, per_file.get(name, 0) - r["events"]) for name, r in files.items())
    ids = spark.table(job.TRANSACTIONS.name).agg(F.count("*"), F.countDistinct("transaction_id"))
    rows, distinct = ids.first()
    duplicated += rows - distinct
    first_landed = min(r["landed_at_ms"] for r in files.values()) / 1000
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "rate": rate,
        "events": events,
        "sustained_events_per_s": round(events / max(last_commit - first_landed, 1e-9)),
        "p50_latency_ms": round(cuts[49]),
        "p95_latency_ms": round(cuts[94]),
        "lost": lost,
        "duplicated": duplicated,
    }


def bench_eda(transactions: int, seed: int) -> dict:
    """``frontier eda marts.fct_transactions`` on N transactions, with the driver's peak memory.

    Generates and builds N transactions in the bench warehouse unless it was last generated with
    that spec and built (a ``bench build`` warehouse, with its one extra day, is reused as it is).
    Driver memory is sampled every 0.1 s while the report runs: the JVM heap in use (after a GC at
    the start; in local mode the driver JVM also runs the tasks).
    """
    import threading

    from frontier import dbt, eda
    from frontier.generator import Spec, generate, generated_spec
    from frontier.spark import get_spark

    home = _use_bench_warehouse()
    spark = get_spark()
    print(f"[bench] warehouse {home}", file=sys.stderr)
    built = generated_spec() == Spec(transactions, seed) and spark.catalog.tableExists(
        "marts.fct_transactions"
    )
    if not built:
        _timed(f"generate {transactions:,}", lambda: generate(spark, Spec(transactions, seed)))
        _timed("full dbt build", lambda: dbt.build(full_refresh=True))
    runtime = spark.sparkContext._jvm.java.lang.Runtime.getRuntime()
    spark.sparkContext._jvm.java.lang.System.gc()
    peak = {"heap": 0}
    running = threading.Event()
    running.set()

    def sample() -> None:
        while running.is_set():
            used = runtime.totalMemory() - runtime.freeMemory()
            peak["heap"] = max(peak["heap"], used)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    path = None

    def report() -> None:
        nonlocal path
        path = eda.write(spark, "marts.fct_transactions")

    try:
        elapsed = _timed("eda", report)
    finally:
        running.clear()
        sampler.join()
    print(f"[bench] report {path}", file=sys.stderr)
    return {
        "transactions": transactions,
        "eda_s": round(elapsed, 1),
        "driver_peak_mb": round(peak["heap"] / 2**20),
    }


def bench_scale(transactions: int, seed: int, workers: list[int]) -> dict:
    """Full dbt build in ``local[2]`` and on standalone clusters of each worker count.

    Each build is its own ``frontier --master … build --full-refresh`` process on the same
    generated warehouse (so every timing includes a JVM start), one after the other; the
    workers share this machine's cores (``frontier cluster up``). ``speedup`` is local time over
    cluster time: below 1 is the cost of the cluster path on one machine.
    """
    import subprocess

    from frontier import cluster

    home = _use_bench_warehouse()
    frontier = str(Path(sys.executable).with_name("frontier"))
    print(f"[bench] warehouse {home}", file=sys.stderr)

    def run_frontier(*args: str) -> None:
        subprocess.run([frontier, *args], check=True, stdout=subprocess.DEVNULL)

    _timed(
        f"generate {transactions:,}",
        lambda: run_frontier("generate", "--transactions", str(transactions), "--seed", str(seed)),
    )
    build = ("build", "--full-refresh")
    local_s = _timed("full build, local[2]", lambda: run_frontier("--master", "local[2]", *build))
    per_workers = {}
    for n in workers:
        running = cluster.up(n)
        try:
            per_workers[str(n)] = _timed(
                f"full build, {n} worker(s)",
                lambda url=running.url: run_frontier("--master", url, *build),
            )
        finally:
            cluster.down()
    return {
        "transactions": transactions,
        "local_s": round(local_s, 1),
        "workers_s": {n: round(s, 1) for n, s in per_workers.items()},
        "speedup": {n: round(local_s / s, 3) for n, s in per_workers.items()},
    }


def run(name: str, args: argparse.Namespace) -> dict:
    if name == "build":
        return bench_build(args.transactions, args.seed)
    if name == "predict":
        return bench_predict(args.rows)
    if name == "bi":
        return bench_bi(args.clients, args.seconds, args.warmup)
    if name == "stream":
        return bench_stream(args.rate, args.seconds)
    if name == "eda":
        return bench_eda(args.transactions, args.seed)
    if name == "scale":
        return bench_scale(args.transactions, args.seed, [int(w) for w in args.workers.split(",")])
    raise ValueError(f"unknown benchmark {name!r}")
