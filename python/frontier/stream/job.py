"""``frontier stream``: the Structured Streaming job over the transaction events.

Per micro-batch (``process_batch``):

1. parse and validate every event (``events``), rejecting duplicates of ids already stored;
2. valid events -> ``raw.transactions_stream`` (partitioned by ``event_date``), rejects ->
   ``raw.transactions_quarantine`` with the raw text and the reason;
3. score valid events with the ``txn_anomaly`` champion (``scoring``); those at or above its
   threshold -> ``marts.transaction_alerts`` with the score and top reasons;
4. per-minute counts and amounts by channel and region -> ``marts.live_volume_minute``; a minute
   that spans batches has one row per batch, so readers sum by minute;
5. one row in ``raw.transactions_stream_batches``, written last: the batch is committed. dbt reads
   only committed batches.

**Exactly once.** The source's offsets are checkpointed, so after a crash Spark replays the
unfinished batch with the same id and the same files. Every write is keyed by the batch
(``sink``): the replay first deletes what the crashed attempt wrote, then writes again.

**Late events and the watermark.** An event more than ``FRONTIER_STREAM_LATENESS_HOURS`` (24)
older than its batch's processing time is quarantined as late; so is one stamped more than five
minutes in the future. Duplicate ids are looked for among the events stored for the same event
days, which the lateness bound keeps to at most two partitions.

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
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from frontier import config, generator
from frontier.ml import pipeline
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
    """What every batch reads: reference data loaded once, and the recent-events state."""

    stream_id: str
    accounts: DataFrame  # account_id, region_id
    profiles: DataFrame
    model: scoring.Model | None
    fx_rates: dict[str, float]
    lateness: dt.timedelta
    recent: DataFrame | None = None


def load_context(spark: SparkSession, settings: config.Stream) -> Context:
    if not spark.catalog.tableExists("marts.dim_accounts"):
        raise RuntimeError("the warehouse has no marts.dim_accounts: run `frontier build` first")
    accounts = spark.table("marts.dim_accounts").select("account_id", "region_id").cache()
    profiles = scoring.profiles(spark).localCheckpoint()  # now, not in the first batch
    model = scoring.champion(spark)
    if model is None:
        _log(f"no {scoring.MODEL} champion: events are stored but not scored "
             f"(run `frontier train {scoring.MODEL}`)")  # fmt: skip
    return Context(
        stream_id=stream_id(),
        accounts=accounts,
        profiles=profiles,
        model=model,
        fx_rates=generator.fx_rates(),
        lateness=dt.timedelta(hours=settings.lateness_hours),
    )


def _recent_state(spark: SparkSession, context: Context, now_seconds: int) -> DataFrame:
    """The recent-events state, rebuilt from the stored events after a (re)start."""
    if context.recent is None:
        since = dt.datetime.fromtimestamp(now_seconds - scoring.BURST_SECONDS, dt.UTC)
        stored = spark.table(TRANSACTIONS.name).where(
            (F.col("event_date") >= F.lit(since.date())) & (F.col("event_at") >= F.lit(since))
        )
        context.recent = scoring.recent_from(stored, now_seconds).localCheckpoint()
    return context.recent


def _stamp(context: Context, batch_id: int, ingested_at: dt.datetime) -> list:
    return [
        F.lit(ingested_at).cast("timestamp").alias("ingested_at"),
        F.lit(context.stream_id).alias("stream_id"),
        F.lit(batch_id).cast("bigint").alias("stream_batch_id"),
    ]


def _days(lo: dt.date, hi: dt.date) -> list[dt.date]:
    return [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)]


def process_batch(spark: SparkSession, context: Context, batch: DataFrame, batch_id: int) -> dict:
    tag = f"{context.stream_id}-b{batch_id:010d}"
    ingested_at = _now()
    clock = _Clock()
    for table in TABLES:
        sink.discard(spark, table, tag)  # what a crashed attempt of this batch left
        spark.catalog.refreshTable(table.name)  # see the files earlier batches added
    stamp = _stamp(context, batch_id, ingested_at)

    # Valid events can only fall on the days the watermark leaves open: look for duplicates there.
    window = _days(
        (ingested_at - context.lateness).date(), (ingested_at + events.FUTURE_TOLERANCE).date()
    )
    stored = spark.table(TRANSACTIONS.name).where(F.col("event_date").isin(window))
    checked = events.mark_duplicates(
        events.validate(
            events.parse(batch),
            context.accounts,
            context.fx_rates,
            ingested_at,
            context.lateness,
        ),
        stored,
    )
    # Only what the writes need is materialised (the text of each field is not).
    checked = checked.select(
        "value", "landed_at", "source_file", *events.VALIDATED_COLUMNS, "rejection_reason"
    ).localCheckpoint()
    valid = checked.where("rejection_reason is null")
    clock.lap("validate")

    now_seconds = int(ingested_at.replace(tzinfo=dt.UTC).timestamp())
    model = context.model
    if model is not None:
        recent = _recent_state(spark, context, now_seconds)
        scored = scoring.score(scoring.features(valid, recent, context.profiles), model).select(
            *events.VALIDATED_COLUMNS, "source_file", "landed_at", "anomaly_score",
            pipeline.FEATURES,
        )  # fmt: skip
    else:
        scored = valid.withColumn("anomaly_score", F.lit(None).cast("double"))
    scored = scored.localCheckpoint()
    clock.lap("score")

    sink.write(
        spark,
        TRANSACTIONS,
        scored.select(
            *events.VALIDATED_COLUMNS,
            "anomaly_score",
            "source_file",
            "landed_at",
            *stamp,
            F.to_date("event_at").alias("event_date"),
        ),  # fmt: skip
        tag,
    )
    clock.lap("store")
    sink.write(
        spark,
        QUARANTINE,
        checked.where("rejection_reason is not null").select(
            F.col("value").alias("raw_event"),
            "rejection_reason",
            "transaction_id",
            "source_file",
            "landed_at",
            *stamp,
            F.lit(ingested_at.date()).alias("ingest_date"),
        ),  # fmt: skip
        tag,
    )
    clock.lap("quarantine")

    n_alerts = 0
    if model is not None:
        n_alerts = _write_alerts(spark, context, scored, batch_id, tag)
        context.recent = scoring.next_recent(recent, valid, now_seconds).localCheckpoint()
        recent.unpersist()
    clock.lap("alerts")

    minute = F.date_trunc("minute", "event_at")
    live = (
        valid.join(F.broadcast(context.accounts), "account_id", "left")
        .groupBy(minute.alias("minute_at"), "channel", "region_id")
        .agg(
            F.count("*").alias("transaction_count"),
            F.sum("amount_czk").cast("decimal(18,2)").alias("amount_czk"),
        )
        .select("*", *stamp[1:], F.to_date("minute_at").alias("minute_date"))
    )
    sink.write(spark, LIVE_VOLUME, live, tag)
    clock.lap("live")

    totals = checked.agg(
        F.count("*").alias("events"),
        F.count(F.when(F.col("rejection_reason").isNull(), 1)).alias("valid"),
        F.min("landed_at").alias("first_landed_at"),
        F.max("landed_at").alias("last_landed_at"),
    ).first()
    record = {
        "stream_id": context.stream_id,
        "stream_batch_id": batch_id,
        "ingested_at": ingested_at,
        "committed_at": _now(),
        "events": totals["events"],
        "valid": totals["valid"],
        "quarantined": totals["events"] - totals["valid"],
        "alerts": n_alerts,
        "first_landed_at": totals["first_landed_at"],
        "last_landed_at": totals["last_landed_at"],
    }
    sink.write_record(spark, BATCHES, record, tag)  # the commit: dbt reads committed batches only
    clock.lap("commit")
    record["step_seconds"] = clock.laps
    scored.unpersist()
    checked.unpersist()
    return record


def _write_alerts(
    spark: SparkSession, context: Context, scored: DataFrame, batch_id: int, tag: str
) -> int:
    """Alerts with their reasons (computed on the driver: they are few); returns how many."""
    model = context.model
    columns = (
        "transaction_id", "account_id", "event_at", "amount_czk", "channel",
        "merchant_category", "country_code", "anomaly_score",
    )  # fmt: skip
    rows = (
        scored.where(F.col("anomaly_score") >= model.threshold)
        .select(*columns, pipeline.FEATURES)
        .collect()
    )
    if not rows:
        return 0
    detected_at = _now()
    reasons = scoring.reasons(model, [row[pipeline.FEATURES] for row in rows])
    alerts = [
        (
            *(row[c] for c in columns),
            model.threshold,
            model.version,
            why,
            detected_at,
            context.stream_id,
            batch_id,
            row["event_at"].date(),
        )  # fmt: skip
        for row, why in zip(rows, reasons, strict=True)
    ]
    sink.write(spark, ALERTS, spark.createDataFrame(alerts, ALERTS.schema).coalesce(1), tag)
    return len(alerts)


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
    totals = {"batches": 0, "events": 0}

    def on_batch(batch: DataFrame, batch_id: int) -> None:
        started = time.time()
        record = process_batch(spark, context, batch, batch_id)
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
                    break
                if idle_seconds is not None and time.time() - last_seen >= idle_seconds:
                    break
                if until is not None and until(dict(totals)):
                    break
    except KeyboardInterrupt:
        _log("stopping")
    finally:
        query.stop()
    if query.exception():
        raise RuntimeError(f"the stream failed: {query.exception()}")
    return totals["batches"]
