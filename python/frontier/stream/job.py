"""``frontier stream``: the Structured Streaming job over the transaction events.

Per micro-batch (``process_batch``):

1. one Spark job parses and validates every event (``events``: format, types, ranges, codes)
   and hands the batch to the driver as Arrow; there, the checks that need the stream's state
   or clock reject events of unknown accounts, out of the watermark, or with an id already
   stored (or repeated in the batch);
2. valid events -> ``raw.transactions_stream`` (partitioned by ``event_date``), rejects ->
   ``raw.transactions_quarantine`` with the raw text and the reason;
3. valid events are scored with the ``txn_anomaly`` champion (``scoring``); those at or above
   its threshold -> ``marts.transaction_alerts`` with the score and top reasons;
4. per-minute counts and amounts by channel and region -> ``marts.live_volume_minute``; a minute
   that spans batches has one row per batch, so readers sum by minute;
5. one row in ``raw.transactions_stream_batches``, written last: the batch is committed. dbt reads
   only committed batches.

Why the driver: every Spark job costs planning and scheduling (about a second per batch for the
six jobs this took when each step was a DataFrame), which missed the latency target; a batch is
at most ``FRONTIER_STREAM_MAX_FILES`` files, a few hundred thousand events, which numpy and
pyarrow handle in a fraction of that. Reading and validating, the part that grows with the
input, stays in Spark (on a cluster, the executors).

**Exactly once.** The source's offsets are checkpointed, so after a crash Spark replays the
unfinished batch with the same id and the same files. Every write is keyed by the batch
(``sink``): the replay first deletes what the crashed attempt wrote, then writes again. The
driver's state (ids seen, recent events) is rebuilt from the stored events by the first batch
after a start, once that batch has deleted what its crashed attempt wrote.

**Late events and the watermark.** An event more than ``FRONTIER_STREAM_LATENESS_HOURS`` (24)
older than its batch's processing time is quarantined as late; so is one stamped more than five
minutes in the future. Duplicate ids are looked for among the events stored for the event days
the lateness bound leaves open (at most two), which the driver keeps (``events.SeenIds``).

**Sources.** ``FRONTIER_STREAM_SOURCE=files`` (default) reads the landing folder; ``kafka`` reads
``FRONTIER_KAFKA_TOPIC`` from ``FRONTIER_KAFKA_SERVERS`` once the ``spark-sql-kafka-0-10``
package is on the classpath (not installable here: no Maven repository). Both give the same
``value`` / ``landed_at`` / ``source_file`` columns, so nothing after the source changes.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from frontier import config, generator
from frontier.stream import events, scoring, sink

TRANSACTIONS = sink.Table(
    "raw.transactions_stream",
    """transaction_id string, account_id bigint, event_at timestamp, amount decimal(18,2),
    currency_code string, amount_czk decimal(18,2), direction string, channel string,
    merchant_category string, counterparty string, country_code string,
    balance_after_czk decimal(18,2), anomaly_score double, source_file string,
    landed_at timestamp, ingested_at timestamp, stream_id string, stream_batch_id bigint,
    event_date date""",
    "event_date",
)
QUARANTINE = sink.Table(
    "raw.transactions_quarantine",
    """raw_event string, rejection_reason string, transaction_id string, source_file string,
    landed_at timestamp, ingested_at timestamp, stream_id string, stream_batch_id bigint,
    ingest_date date""",
    "ingest_date",
)
ALERTS = sink.Table(
    "marts.transaction_alerts",
    """transaction_id string, account_id bigint, event_at timestamp, amount_czk decimal(18,2),
    channel string, merchant_category string, country_code string, anomaly_score double,
    threshold double, model_version int, reasons string, detected_at timestamp,
    stream_id string, stream_batch_id bigint, alert_date date""",
    "alert_date",
)
LIVE_VOLUME = sink.Table(
    "marts.live_volume_minute",
    """minute_at timestamp, channel string, region_id int, transaction_count bigint,
    amount_czk decimal(18,2), stream_id string, stream_batch_id bigint, minute_date date""",
    "minute_date",
)
BATCHES = sink.Table(
    "raw.transactions_stream_batches",
    """stream_id string, stream_batch_id bigint, ingested_at timestamp, committed_at timestamp,
    events bigint, valid bigint, quarantined bigint, alerts bigint, first_landed_at timestamp,
    last_landed_at timestamp""",
    None,
    format="json",
)
TABLES = (TRANSACTIONS, QUARANTINE, ALERTS, LIVE_VOLUME, BATCHES)


def _log(message: str) -> None:
    print(f"[stream] {message}", file=sys.stderr, flush=True)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ensure_tables(spark: SparkSession) -> None:
    for table in TABLES:
        sink.ensure(spark, table)


def reset(spark: SparkSession) -> None:
    """Forget the stream: its tables' files, its checkpoint and unread landed events.

    ``frontier generate`` calls this, since a new bank makes the old stream meaningless.
    """
    import shutil

    for table in TABLES:
        spark.sql(f"drop table if exists {table.name}")
        shutil.rmtree(table.location, ignore_errors=True)
    shutil.rmtree(checkpoint(), ignore_errors=True)
    shutil.rmtree(config.paths().stream_landing, ignore_errors=True)


def checkpoint() -> str:
    return str(config.paths().checkpoints / "transactions_stream")


def stream_id() -> str:
    """The stream's identity, kept beside its checkpoint (a new checkpoint is a new stream)."""
    folder = Path(checkpoint())
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "frontier-stream.json"
    if not marker.is_file():
        marker.write_text(json.dumps({"stream_id": uuid.uuid4().hex[:8]}))
    return json.loads(marker.read_text())["stream_id"]


def source(spark: SparkSession, settings: config.Stream) -> DataFrame:
    """The event source as ``value`` (text), ``landed_at``, ``source_file``."""
    if settings.source == "kafka":
        return (
            spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", settings.kafka_servers)
            .option("subscribe", settings.kafka_topic)
            .load()
            .select(
                F.col("value").cast("string").alias("value"),
                F.col("timestamp").alias("landed_at"),
                F.concat_ws(":", "topic", "partition", "offset").alias("source_file"),
            )
        )
    folder = config.paths().stream_landing
    folder.mkdir(parents=True, exist_ok=True)
    files = (
        spark.readStream.format("text")
        .option("maxFilesPerTrigger", settings.max_files_per_trigger)
        .load(str(folder))
    )
    return _with_file_metadata(files)


def read_files(spark: SparkSession, paths: list[str]) -> DataFrame:
    """Landed event files as one batch, in the stream's input shape (backfills and tests)."""
    return _with_file_metadata(spark.read.text(paths))


def _with_file_metadata(lines: DataFrame) -> DataFrame:
    return lines.select(
        "value",
        F.col("_metadata.file_modification_time").alias("landed_at"),
        F.col("_metadata.file_name").alias("source_file"),
    )


class _Clock:
    """Seconds spent in each step of a batch (logged with FRONTIER_DEBUG=1)."""

    def __init__(self) -> None:
        self.mark = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.laps[step] = round(now - self.mark, 3)
        self.mark = now


@dataclass
class Context:
    """What every batch reads: reference data loaded once, and the state kept between batches
    (loaded from the stored events by the first batch, after it discarded a crashed attempt)."""

    stream_id: str
    known: scoring.Accounts  # the warehouse's accounts, with their profiles
    model: scoring.Model | None
    fx_rates: dict[str, float]
    lateness: dt.timedelta
    seen: events.SeenIds | None = None
    recent: scoring.Recent | None = None


def load_context(spark: SparkSession, settings: config.Stream) -> Context:
    if not spark.catalog.tableExists("marts.dim_accounts"):
        raise RuntimeError("the warehouse has no marts.dim_accounts: run `frontier build` first")
    model = scoring.champion(spark)
    if model is None:
        _log(f"no {scoring.MODEL} champion: events are stored but not scored "
             f"(run `frontier train {scoring.MODEL}`)")  # fmt: skip
    return Context(
        stream_id=stream_id(),
        known=scoring.accounts(spark),
        model=model,
        fx_rates=generator.fx_rates(),
        lateness=dt.timedelta(hours=settings.lateness_hours),
    )


def _load_state(spark: SparkSession, context: Context, window: list[dt.date], now: int) -> None:
    """The ids stored in the watermark window and the last ten minutes' events, from the table."""
    spark.catalog.refreshTable(TRANSACTIONS.name)
    stored = (
        spark.table(TRANSACTIONS.name)
        .where(F.col("event_date").isin(window))
        .select("transaction_id", "stream_batch_id", "event_date", "account_id", "event_at")
        .toArrow()
    )
    context.seen = events.SeenIds()
    context.seen.add(
        stored["event_date"].to_pylist(),
        stored["transaction_id"].to_pylist(),
        stored["stream_batch_id"].to_pylist(),
    )
    account = stored["account_id"].to_numpy()
    known = events.is_in(context.known.ids, account)  # an account since removed has no code
    seconds = scoring.event_seconds(stored["event_at"])
    context.recent = scoring.Recent.of(context.known.code(account[known]), seconds[known], now)


def _days(lo: dt.date, hi: dt.date) -> list[dt.date]:
    return [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]


def _constant(value: object, type_: pa.DataType, n: int) -> pa.Array:
    return pa.array([value] * n, type_)


def _stamp(context: Context, batch_id: int, ingested_at: dt.datetime, n: int) -> dict:
    """The columns that say which ingestion stored a row."""
    return {
        "ingested_at": _constant(ingested_at.replace(tzinfo=dt.UTC), _UTC, n),
        "stream_id": _constant(context.stream_id, pa.string(), n),
        "stream_batch_id": _constant(batch_id, pa.int64(), n),
    }


# What the Spark side of a batch hands to the driver: the raw line and the validated fields.
CHECKED = (
    "value", "landed_at", "source_file", *events.VALIDATED_COLUMNS, "event_at_text",
    "rejection_reason",
)  # fmt: skip
_UTC = pa.timestamp("us", tz="UTC")


def process_batch(spark: SparkSession, context: Context, batch: DataFrame, batch_id: int) -> dict:
    """One micro-batch: a single Spark job parses and validates the events and brings them to
    the driver as Arrow; the duplicate check, the features, the scores, the aggregates and the
    writes (pyarrow, sink.py) run there, on at most ``max_files_per_trigger`` files of events."""
    tag = f"{context.stream_id}-b{batch_id:010d}"
    ingested_at = _now()
    now_seconds = int(ingested_at.replace(tzinfo=dt.UTC).timestamp())
    clock = _Clock()
    for table in TABLES:
        sink.discard(spark, table, tag)  # what a crashed attempt of this batch left
    # Valid events can only fall on the days the watermark leaves open.
    window = _days(
        (ingested_at - context.lateness).date(), (ingested_at + events.FUTURE_TOLERANCE).date()
    )
    if context.seen is None:
        _load_state(spark, context, window, now_seconds)
    rows = _checked(context, batch, ingested_at, context.seen, batch_id, clock)
    is_valid = pc.is_null(rows["rejection_reason"])
    valid = rows.filter(is_valid)
    rejected = rows.filter(pc.invert(is_valid))

    model = context.model
    n_valid = valid.num_rows
    recent = context.recent.with_batch(valid, context.known)
    if model is not None:
        scores, vectors = scoring.score(scoring.features(valid, recent, context.known), model)
        anomaly_score = pa.array(scores, pa.float64())
    else:
        anomaly_score = pa.nulls(n_valid, pa.float64())
    clock.lap("score")

    sink.write(
        spark,
        TRANSACTIONS,
        pa.table({
            **{c: valid[c] for c in events.VALIDATED_COLUMNS},
            "anomaly_score": anomaly_score,
            "source_file": valid["source_file"],
            "landed_at": valid["landed_at"],
            **_stamp(context, batch_id, ingested_at, n_valid),
            "event_date": valid["event_at"].cast(pa.date32()),
        }),
        tag,
    )  # fmt: skip
    clock.lap("store")
    n_rejected = rejected.num_rows
    sink.write(
        spark,
        QUARANTINE,
        pa.table({
            "raw_event": rejected["value"],
            "rejection_reason": rejected["rejection_reason"],
            "transaction_id": rejected["transaction_id"],
            "source_file": rejected["source_file"],
            "landed_at": rejected["landed_at"],
            **_stamp(context, batch_id, ingested_at, n_rejected),
            "ingest_date": _constant(ingested_at.date(), pa.date32(), n_rejected),
        }),
        tag,
    )  # fmt: skip
    clock.lap("quarantine")

    n_alerts = 0
    if model is not None:
        flagged = scores >= model.threshold
        n_alerts = _write_alerts(spark, context, valid.filter(flagged), scores[flagged],
                                 vectors[flagged], batch_id, tag)  # fmt: skip
    clock.lap("alerts")

    sink.write(spark, LIVE_VOLUME, _live_volume(context, valid, batch_id), tag)
    clock.lap("live")

    landed = pc.min_max(rows["landed_at"])
    record = {
        "stream_id": context.stream_id,
        "stream_batch_id": batch_id,
        "ingested_at": ingested_at,
        "committed_at": _now(),
        "events": rows.num_rows,
        "valid": n_valid,
        "quarantined": n_rejected,
        "alerts": n_alerts,
        "first_landed_at": _naive(landed["min"].as_py()),
        "last_landed_at": _naive(landed["max"].as_py()),
    }
    sink.write_record(spark, BATCHES, record, tag)  # the commit: dbt reads committed batches only
    clock.lap("commit")

    # The batch is stored: its events now count as seen and as recent.
    context.seen.add(
        valid["event_at"].cast(pa.date32()).to_pylist(),
        valid["transaction_id"].to_pylist(),
        [batch_id] * n_valid,
    )
    context.seen.keep(window)
    context.recent = recent.since(now_seconds)
    record["step_seconds"] = clock.laps
    return record


def _checked(
    context: Context,
    batch: DataFrame,
    ingested_at: dt.datetime,
    seen: events.SeenIds,
    batch_id: int,
    clock: _Clock,
) -> pa.Table:
    """The batch's events with their rejection reasons: Spark parses and validates them (the
    batch's one Spark job), the driver adds the checks that need the stream's state or clock."""
    validated = events.validate(events.parse(batch), context.fx_rates)
    rows = validated.select(*CHECKED).toArrow()
    clock.lap("validate")
    rows = events.check(rows, context.known.ids, ingested_at, context.lateness, seen, batch_id)
    clock.lap("check")
    return rows


def warm_up(spark: SparkSession, context: Context, events_count: int, rounds: int = 2) -> float:
    """Run the batch path (read, validate, check, score; no writes) on synthetic events; returns
    the seconds it took.

    A fresh JVM interprets the validation code until its JIT compiles it: the first batches
    after a start took 4-9 s where a warm one takes under 1 s. Warming up on ``events_count``
    events of known accounts before reading the source keeps that out of the first real
    batches' latency. The file sits in the stream's checkpoint folder, which a cluster's
    executors can read as they read the checkpoint.
    """
    if events_count <= 0 or len(context.known.ids) == 0:
        return 0.0
    started = time.perf_counter()
    folder = Path(checkpoint()) / "warm-up"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "events.json"
    stamp = _now().isoformat(timespec="milliseconds") + "Z"
    ids = context.known.ids
    path.write_text("".join(
        json.dumps({
            "transaction_id": f"warm-up-{i}", "account_id": int(ids[i % len(ids)]),
            "event_at": stamp, "amount": 10 + i % 5000, "currency": "CZK", "direction": "debit",
            "channel": events.CHANNELS[i % len(events.CHANNELS)],
            "merchant_category": "groceries", "counterparty": "warm-up", "country": "CZ",
        }) + "\n"
        for i in range(events_count)
    ))  # fmt: skip
    for _ in range(rounds):
        batch = read_files(spark, [str(path)])
        rows = _checked(context, batch, _now(), events.SeenIds(), -1, _Clock())
        if context.model is not None:
            valid = rows.filter(pc.is_null(rows["rejection_reason"]))
            recent = scoring.Recent(np.array([], np.int64)).with_batch(valid, context.known)
            scoring.score(scoring.features(valid, recent, context.known), context.model)
    path.unlink()
    return time.perf_counter() - started


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value is not None else None


def _write_alerts(
    spark: SparkSession,
    context: Context,
    flagged: pa.Table,
    scores: np.ndarray,
    vectors: np.ndarray,
    batch_id: int,
    tag: str,
) -> int:
    """Alerts with their reasons; returns how many."""
    model = context.model
    n = flagged.num_rows
    if n == 0:
        return 0
    detected_at = _now().replace(tzinfo=dt.UTC)
    columns = (
        "transaction_id", "account_id", "event_at", "amount_czk", "channel",
        "merchant_category", "country_code",
    )  # fmt: skip
    sink.write(
        spark,
        ALERTS,
        pa.table({
            **{c: flagged[c] for c in columns},
            "anomaly_score": pa.array(scores, pa.float64()),
            "threshold": _constant(model.threshold, pa.float64(), n),
            "model_version": _constant(model.version, pa.int32(), n),
            "reasons": pa.array(scoring.reasons(model, vectors), pa.string()),
            "detected_at": _constant(detected_at, _UTC, n),
            "stream_id": _constant(context.stream_id, pa.string(), n),
            "stream_batch_id": _constant(batch_id, pa.int64(), n),
            "alert_date": flagged["event_at"].cast(pa.date32()),
        }),
        tag,
    )  # fmt: skip
    return n


def _live_volume(context: Context, valid: pa.Table, batch_id: int) -> pa.Table:
    """Counts and amounts per minute, channel and region of the batch's valid events."""
    codes = context.known.code(valid["account_id"].to_numpy())
    frame = pd.DataFrame({
        "minute_at": pc.floor_temporal(valid["event_at"], unit="minute").to_pandas(),
        "channel": valid["channel"].to_pandas(),
        "region_id": pd.array(context.known.region_id[codes], dtype="Int64"),
        # cents are exact: amounts are rounded to 2 decimals and at most 10^8 CZK
        "cents": np.rint(scoring.to_double(valid["amount_czk"]) * 100).astype(np.int64),
    })  # fmt: skip
    grouped = (
        frame.groupby(["minute_at", "channel", "region_id"], dropna=False)["cents"]
        .agg(["count", "sum"])
        .reset_index()
    )
    n = len(grouped)
    minute_at = pa.array(grouped["minute_at"], _UTC)
    return pa.table({
        "minute_at": minute_at,
        "channel": pa.array(grouped["channel"], pa.string()),
        "region_id": pa.array(grouped["region_id"], pa.int32()),
        "transaction_count": pa.array(grouped["count"], pa.int64()),
        "amount_czk": pa.array(
            [Decimal(int(c)).scaleb(-2) for c in grouped["sum"]], pa.decimal128(18, 2)
        ),
        "stream_id": _constant(context.stream_id, pa.string(), n),
        "stream_batch_id": _constant(batch_id, pa.int64(), n),
        "minute_date": minute_at.cast(pa.date32()),
    })  # fmt: skip


def run(
    seconds: float | None = None,
    available_now: bool = False,
    idle_seconds: float | None = None,
    until: Callable[[dict], bool] | None = None,
) -> int:
    """Run the stream; returns the number of batches processed by this run.

    Stops after ``seconds``, after ``idle_seconds`` without new events, when everything landed
    so far is processed (``available_now``), when ``until({"batches": …, "events": …})`` (this
    run's totals) is true, or on Ctrl-C.
    """
    from frontier.spark import get_spark

    spark = get_spark()
    settings = config.stream()
    ensure_tables(spark)
    context = load_context(spark, settings)
    if settings.warm_up_events:
        took = warm_up(spark, context, settings.warm_up_events)
        _log(f"warmed up on {settings.warm_up_events:,} synthetic events in {took:.1f} s")
    totals = {"batches": 0, "events": 0}

    def on_batch(batch: DataFrame, batch_id: int) -> None:
        started = time.time()
        try:
            record = process_batch(spark, context, batch, batch_id)
        except Exception as error:
            # The whole traceback goes to the log; Spark gets a short message (it runs a regex
            # over a failed batch's message, which overflows the stack on a long one).
            _log(f"batch {batch_id} failed:\n{traceback.format_exc()}")
            summary = f"{type(error).__name__}: {str(error)[:500]}"
            raise RuntimeError(f"batch {batch_id} failed: {summary}") from None
        totals["batches"] += 1
        totals["events"] += record["events"]
        _log(
            f"batch {batch_id}: {record['events']} events, {record['valid']} valid, "
            f"{record['quarantined']} quarantined, {record['alerts']} alerts "
            f"in {time.time() - started:.2f} s"
        )
        if config.debug():
            _log(f"batch {batch_id} steps: {record['step_seconds']}")

    writer = (
        source(spark, settings)
        .writeStream.foreachBatch(on_batch)
        .option("checkpointLocation", checkpoint())
    )
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{settings.trigger_seconds} seconds")
    query = writer.queryName("transactions_stream").start()
    _log(f"stream {context.stream_id} reading {config.paths().stream_landing}")
    try:
        if available_now:
            query.awaitTermination()
        else:
            started = last_seen = time.time()
            seen = 0
            while query.isActive:
                query.awaitTermination(1)
                if totals["batches"] != seen:
                    seen, last_seen = totals["batches"], time.time()
                if seconds is not None and time.time() - started >= seconds:
                    _log(f"stopping after {seconds:g} s")
                    break
                if idle_seconds is not None and time.time() - last_seen >= idle_seconds:
                    _log(f"stopping after {idle_seconds:g} s without new events")
                    break
                if until is not None and until(dict(totals)):
                    _log(f"stopping: done after {totals['batches']} batches")
                    break
    except KeyboardInterrupt:
        _log("stopping")
    finally:
        query.stop()
    if query.exception():
        raise RuntimeError(f"the stream failed: {query.exception()}")
    return totals["batches"]
