"""The ``frontier`` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from frontier import config


def _progress(message: str) -> None:
    print(f"[frontier] {message}", file=sys.stderr, flush=True)


def cmd_init(args: argparse.Namespace) -> int:
    from frontier.spark import write_spark_defaults

    path = write_spark_defaults()
    _progress(f"wrote {path} (warehouse {config.paths().home})")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from frontier.generator import Spec, generate
    from frontier.spark import get_spark
    from frontier.stream import job

    spark = get_spark()
    job.reset(spark)  # a new bank: the old stream's events and tables no longer apply
    start = time.perf_counter()
    _progress(f"generating {args.transactions:,} transactions (seed {args.seed})")
    counts = generate(spark, Spec(args.transactions, args.seed))
    for table, n in counts.items():
        print(f"{table:32s} {n:>12,}")
    _progress(f"landed in {time.perf_counter() - start:.1f}s under {config.paths().landing}")
    return 0


def cmd_land_day(args: argparse.Namespace) -> int:
    from frontier.generator import land_next_day
    from frontier.spark import get_spark

    day, n = land_next_day(get_spark())
    print(f"landed batch {day}: {n:,} transactions")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from frontier.spark import get_spark

    spark = get_spark()
    if args.source == "berka":
        from frontier.sources import berka

        for table, n in berka.load(spark, args.path).items():
            print(f"{table:32s} {n:>12,}")
        _progress("core source is now berka: `frontier build --full-refresh` builds it")
    if args.source == "csv":
        from frontier.sources import csv_file

        loaded = csv_file.load(spark, args.path, args.table)
        for original, name, kind in loaded.columns:
            renamed = f"  (from {original!r})" if original != name else ""
            print(f"  {name:32s} {kind}{renamed}")
        print(f"{loaded.table}: {loaded.rows:,} rows")
        if loaded.quarantined:
            print(f"{loaded.quarantined:,} malformed lines in {csv_file.QUARANTINE}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from frontier import dbt

    start = time.perf_counter()
    dbt.build(full_refresh=args.full_refresh, select=args.select)
    _progress(f"dbt build finished in {time.perf_counter() - start:.1f}s")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from frontier.ml import declarations, forecast
    from frontier.ml.train import train
    from frontier.spark import get_spark

    spark = get_spark()
    if args.name:
        chosen = [declarations.load(args.name)]
    else:
        chosen = declarations.with_tables(spark, declarations.load_all())
    for declaration in chosen:
        start = time.perf_counter()
        result = train(spark, declaration)
        if declaration.forecast:
            rows = forecast.write(spark, result)
            _progress(f"{declaration.name}: {rows:,} forecast rows")
        best = result.champion
        figures = ", ".join(
            f"{m} {v:.4f}" for m, d, v in best.metrics if d is None and v is not None
        )
        print(f"{declaration.name}: champion v{best.version} {best.algorithm}: {figures}")
        _progress(f"{declaration.name} trained in {time.perf_counter() - start:.0f}s")
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from frontier.ml import declarations, monitor
    from frontier.spark import get_spark

    spark = get_spark()
    if args.name:
        chosen = [declarations.load(args.name)]
    else:
        chosen = declarations.with_tables(spark, declarations.load_all())
    for row in monitor.monitor(spark, chosen):
        print(f"{row[0]:18s} v{row[1]:<3d} {row[2]:32s} psi {row[3]:.4f} {row[4]}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from frontier import serve
    from frontier.spark import spark_home

    if args.stop:
        print("stopped" if serve.stop() else "not running")
        return 0
    if args.status:
        current = serve.status(args.host, args.port)
        print(current.describe())
        return 0 if current.answering else 3
    if config.metastore_mode() == "derby":
        _progress(
            "embedded Derby metastore: other frontier commands on this warehouse wait until the "
            "server stops (FRONTIER_METASTORE=postgres shares it; see `make metastore`)"
        )
    current = serve.start(args.host, args.port)
    print(current.describe())
    beeline = spark_home() / "bin" / "beeline"
    print(f"connect: {beeline} -u jdbc:hive2://{current.host}:{current.port}/default")
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    from frontier import cluster

    if args.action == "up":
        current = cluster.up(args.workers, worker_memory=args.worker_memory)
        print(current.describe())
        print(f"run any command there: frontier --master {current.url} <command>")
    elif args.action == "down":
        print(f"stopped {cluster.down()} process(es)")
    else:
        current = cluster.status()
        print(current.describe() if current else "no cluster running")
        return 0 if current else 3
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from frontier.spark import get_spark

    df = get_spark().sql(args.query)
    if args.format == "table":
        df.show(args.limit, truncate=False)
        return 0
    rows = df.limit(args.limit).toPandas()
    if args.format == "csv":
        rows.to_csv(sys.stdout, index=False)
    else:
        print(rows.to_json(orient="records", date_format="iso"))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate, build, train, score and summarise in one Spark session (what `make demo` runs)."""
    start = time.perf_counter()
    cmd_generate(args)
    cmd_build(argparse.Namespace(full_refresh=True, select=None))
    cmd_train(argparse.Namespace(name=None))
    cmd_build(argparse.Namespace(full_refresh=False, select="tag:ml"))
    cmd_monitor(argparse.Namespace(name=None))
    _demo_stream()
    cmd_eda(argparse.Namespace(table="marts.fct_transactions"))
    cmd_summary(args)
    _progress(
        f"demo finished in {time.perf_counter() - start:.0f}s; warehouse at {config.paths().home}"
    )
    _progress(
        'try: frontier sql "select loan_id, default_probability, top_reasons '
        'from marts.fct_loan_default_scores order by default_probability desc limit 10"'
    )
    return 0


def _demo_stream() -> None:
    """Twenty seconds of live events through the stream, so the alert and live tables have rows."""
    from frontier.stream import feed, job

    _progress("streaming 20 s of simulated live transactions")
    _landed(feed.simulate(rate=100, seconds=20))
    job.run(available_now=True)


def cmd_summary(args: argparse.Namespace) -> int:
    from frontier.summary import print_summary

    print_summary()
    return 0


def _landed(landed) -> None:
    bad = ", ".join(f"{k} {v}" for k, v in landed.bad.items() if v) or "none"
    folder = config.paths().stream_landing
    print(f"landed {landed.events:,} events in {landed.files} files under {folder}")
    print(f"injected anomalies: {landed.anomalies}; bad events: {bad}")


def cmd_simulate(args: argparse.Namespace) -> int:
    from frontier.stream import feed

    _landed(
        feed.simulate(
            args.rate,
            args.seconds,
            seed=args.seed,
            bad_share=args.bad_share,
            anomaly_share=args.anomaly_share,
            manifest=args.manifest,
        )  # fmt: skip
    )
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    import datetime as dt

    from frontier.stream import feed

    start = dt.date.fromisoformat(args.start)
    _landed(feed.replay(start, days=args.days, speed=args.speed, manifest=args.manifest))
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    from frontier.stream import job

    n = job.run(seconds=args.seconds, available_now=args.available_now, idle_seconds=args.idle)
    _progress(f"processed {n} batches")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from frontier import dashboard

    dashboard.serve_forever(args.host, args.port)
    return 0


def cmd_eda(args: argparse.Namespace) -> int:
    from frontier import eda
    from frontier.spark import get_spark

    start = time.perf_counter()
    path = eda.write(get_spark(), args.table)
    _progress(f"EDA of {args.table} in {time.perf_counter() - start:.0f}s")
    print(path)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from frontier import bench

    result = bench.run(args.name, args)
    print(json.dumps(result))
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    from frontier import profile

    folder = args.log or os.environ.get("FRONTIER_EVENT_LOG")
    if not folder:
        raise ValueError("give the event log folder, or set FRONTIER_EVENT_LOG as for the run")
    print(profile.report(Path(folder), args.top))
    return 0


def _dataset_args(p: argparse.ArgumentParser, seed: int = 42) -> None:
    p.add_argument("--transactions", type=int, default=1_000_000, help="rows of history")
    p.add_argument("--seed", type=int, default=seed, help="same seed, same data")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frontier", description=__doc__)
    parser.add_argument(
        "--master",
        help="Spark master URL for this command, e.g. spark://127.0.0.1:7077 "
        "(default local[2], FRONTIER_SPARK_MASTER)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="render spark-defaults.conf for dbt, spark-submit and beeline")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("generate", help="land a synthetic bank in the landing zone and raw tables")
    _dataset_args(p)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("land-day", help="land the next business day of transactions as a batch")
    p.set_defaults(func=cmd_land_day)

    p = sub.add_parser("load", help="load real data: a source system or a CSV file into raw")
    load_sub = p.add_subparsers(dest="source", required=True)
    b = load_sub.add_parser("berka", help="the PKDD'99 Czech bank as the core banking system")
    b.add_argument("--path", type=Path, help="its folder (default ../shared/datasets/berka_pkdd99)")
    b = load_sub.add_parser("csv", help="a CSV file (header line) as a typed table")
    b.add_argument("path", type=Path, help="a .csv file or a folder of them")
    b.add_argument("--table", required=True, help="target table, e.g. raw.my_loans")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("build", help="dbt build on the embedded Spark session")
    p.add_argument("--full-refresh", action="store_true")
    p.add_argument("--select", help="dbt node selection")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("train", help="train declared models (ml/*.yml); register the champions")
    p.add_argument("name", nargs="?", help="one model (default: every declaration)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("monitor", help="feature drift (PSI) of the champions into ml.feature_drift")
    p.add_argument("name", nargs="?", help="one model (default: every declaration)")
    p.set_defaults(func=cmd_monitor)

    p = sub.add_parser("serve", help="Spark Thrift Server (HiveServer2) for BI tools and beeline")
    p.add_argument("--host", help="bind address (default 127.0.0.1, FRONTIER_THRIFT_HOST)")
    p.add_argument("--port", type=int, help="port (default 10000, FRONTIER_THRIFT_PORT)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--status", action="store_true", help="say whether it runs and answers")
    group.add_argument("--stop", action="store_true", help="stop it")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("cluster", help="a Spark standalone master and workers on this machine")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--worker-memory", default="4g", help="memory each worker offers")
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("simulate", help="write a live transaction feed into the stream landing")
    p.add_argument("--rate", type=float, default=1000, help="events per second")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--bad-share", type=float, default=0.01, help="share of malformed events")
    p.add_argument("--anomaly-share", type=float, default=0.002, help="share made anomalous")
    p.add_argument("--manifest", type=Path, help="append one JSON line per landed file here")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("replay", help="replay landed history into the stream landing, as if live")
    p.add_argument("--start", required=True, help="first day of history to replay (yyyy-mm-dd)")
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--speed", type=float, default=60, help="times faster than it happened")
    p.add_argument("--manifest", type=Path, help="append one JSON line per landed file here")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("stream", help="the streaming job: validate, store, score, aggregate")
    p.add_argument("--seconds", type=float, help="stop after this long (default: run on)")
    p.add_argument("--idle", type=float, help="stop after this many seconds without events")
    p.add_argument(
        "--available-now", action="store_true", help="process what has landed, then stop"
    )
    p.set_defaults(func=cmd_stream)

    p = sub.add_parser("dashboard", help="live dashboard: stream, alerts, forecasts, risk, models")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    p.add_argument("--port", type=int, default=8050)
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("eda", help="exploratory report of a table as one HTML file")
    p.add_argument("table", nargs="?", default="marts.fct_transactions")
    p.set_defaults(func=cmd_eda)

    p = sub.add_parser("sql", help="run Spark SQL against the warehouse")
    p.add_argument("query")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser(
        "demo", help="generate, build, train, score, stream a live minute, summarise (`make demo`)"
    )
    _dataset_args(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("summary", help="tables per layer with row counts")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("bench", help="benchmarks; the last line printed is one JSON object")
    bench_sub = p.add_subparsers(dest="name", required=True)
    b = bench_sub.add_parser("build", help="full dbt build, then one more day incrementally")
    _dataset_args(b, seed=7)
    b = bench_sub.add_parser("predict", help="SQL predict function vs MLlib vs a Python UDF")
    b.add_argument("--rows", type=int, default=2_000_000, help="rows to score")
    b = bench_sub.add_parser("bi", help="dashboard queries from concurrent clients over Thrift")
    b.add_argument("--clients", type=int, default=8)
    b.add_argument("--seconds", type=float, default=60)
    b.add_argument(
        "--warmup", type=float, default=300,
        help="seconds of the same load, unmeasured, first (a fresh server's JIT is cold)",
    )  # fmt: skip
    b = bench_sub.add_parser("eda", help="EDA report of fct_transactions: time, driver memory")
    _dataset_args(b, seed=7)
    b = bench_sub.add_parser("scale", help="full build: local[2] vs standalone clusters")
    _dataset_args(b, seed=7)
    b.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    b = bench_sub.add_parser("stream", help="simulator + stream: throughput, latency, losses")
    b.add_argument("--rate", type=float, default=5000, help="events per second")
    b.add_argument("--seconds", type=float, default=60)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("profile", help="task seconds per dbt node, from a run's Spark event log")
    p.add_argument("log", nargs="?", help="event log folder (default FRONTIER_EVENT_LOG)")
    p.add_argument("--top", type=int, default=25, help="how many nodes to list")
    p.set_defaults(func=cmd_profile)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.master:
        os.environ["FRONTIER_SPARK_MASTER"] = args.master  # read by config.spark_master()
    try:
        return args.func(args)
    except Exception as exc:  # one clear line for the user; FRONTIER_DEBUG=1 shows the traceback
        if config.debug():
            raise
        print(f"frontier {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
