"""The stream: every kind of bad event, exactly-once ingest (replays and SIGKILL), alerts, and
dbt picking streamed transactions up once."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from pyspark.sql import functions as F

from frontier import config, dbt
from frontier.stream import events, feed, job

NOW = dt.datetime(2026, 11, 25, 12, 0, 0)
LATENESS = dt.timedelta(hours=24)


def _good(account_id: int, **changes) -> dict:
    event = {
        "transaction_id": "T1", "account_id": account_id, "event_at": "2026-11-25T11:59:00Z",
        "amount": 450.5, "currency": "CZK", "direction": "debit", "channel": "card_pos",
        "merchant_category": "groceries", "counterparty": "M1", "country": "CZ",
    }  # fmt: skip
    event.update(changes)
    return event


def test_each_bad_event_is_quarantined_with_a_precise_reason(spark, built):
    known = spark.table("marts.dim_accounts").first().account_id
    cases = {
        "ok": (_good(known, transaction_id="ok"), None),
        "ok-eur": (_good(known, transaction_id="ok-eur", currency="EUR", country="DE"), None),
        "broken": ('{"transaction_id": "broken", "amount": ', "malformed JSON"),
        "no-account": (
            {k: v for k, v in _good(known, transaction_id="no-account").items()
             if k != "account_id"},  # fmt: skip
            "missing field: account_id",
        ),
        "text-amount": (_good(known, transaction_id="text-amount", amount="12,50"),
                        "amount is not a number: 12,50"),
        "float-account": (_good(1.5, transaction_id="float-account"),
                          "account_id is not an integer: 1.5"),
        "bad-time": (_good(known, transaction_id="bad-time", event_at="yesterday"),
                     "event_at is not a timestamp: yesterday"),
        "negative": (_good(known, transaction_id="negative", amount=-5), "amount not positive: -5"),
        "huge": (_good(known, transaction_id="huge", amount=1e12), "amount out of range: "),
        "currency": (_good(known, transaction_id="currency", currency="XXX"),
                     "unknown currency: XXX"),
        "direction": (_good(known, transaction_id="direction", direction="sideways"),
                      "unknown direction: sideways"),
        "channel": (_good(known, transaction_id="channel", channel="pigeon"),
                    "unknown channel: pigeon"),
        "stranger": (_good(999_999_999, transaction_id="stranger"),
                     "unknown account_id: 999999999"),
        "future": (_good(known, transaction_id="future", event_at="2026-11-25T13:00:00Z"),
                   "event_at in the future"),
        "late": (_good(known, transaction_id="late", event_at="2026-11-20T10:00:00Z"),
                 "late event: "),
        "stored": (_good(known, transaction_id="stored"),
                   "duplicate transaction_id: already ingested in batch 7"),
    }  # fmt: skip
    lines = {key: line if isinstance(line, str) else json.dumps(line)
             for key, (line, _) in cases.items()}  # fmt: skip
    rows = [(line, NOW, "a.json") for line in lines.values()]
    rows.append((lines["ok"], NOW + dt.timedelta(seconds=1), "b.json"))  # a later copy of "ok"
    batch = spark.createDataFrame(rows, "value string, landed_at timestamp, source_file string")
    seen = events.SeenIds()  # what the stream stored before: "stored", in batch 7
    seen.add([NOW.date()], ["stored"], [7])
    accounts = spark.table("marts.dim_accounts").select("account_id").toArrow()
    known = np.sort(accounts["account_id"].to_numpy())

    validated = events.validate(events.parse(batch), {"CZK": 1.0, "EUR": 25.0})
    rows = validated.select(*job.CHECKED).toArrow()
    checked = events.check(rows, known, NOW, LATENESS, seen, batch_id=8).to_pylist()
    checked = [SimpleNamespace(**row) for row in checked]

    assert len(checked) == len(rows)  # nothing is dropped
    by_line: dict[str, list] = {}
    for row in checked:
        by_line.setdefault(row.value, []).append(row)
    first, second = sorted(by_line[lines["ok"]], key=lambda r: r.source_file)
    assert first.rejection_reason is None
    assert second.rejection_reason == "duplicate transaction_id in the batch"
    for key, (_, expected) in cases.items():
        if key == "ok":
            continue
        (row,) = by_line[lines[key]]
        if expected is None:
            assert row.rejection_reason is None, key
        else:
            assert row.rejection_reason and row.rejection_reason.startswith(expected), (key, row)
    (eur,) = by_line[lines["ok-eur"]]
    assert float(eur.amount_czk) == pytest.approx(450.5 * 25.0)


REASON_OF_KIND = {
    "malformed_json": "malformed JSON",
    "wrong_type": "amount is not a number",
    "missing_field": "missing field: account_id",
    "absurd_amount": "amount out of range",
    "unknown_account": "unknown account_id",
    "duplicate_id": "duplicate transaction_id",
    "far_past": "late event",
}


def _manifest(path) -> dict[str, int]:
    with open(path) as fh:
        return {r["file"]: r["events"] for r in map(json.loads, fh)}


def _stored_per_file(spark, files) -> dict[str, int]:
    for table in job.TABLES:
        spark.catalog.refreshTable(table.name)
    rows = (
        spark.table(job.TRANSACTIONS.name)
        .select("source_file")
        .unionByName(spark.table(job.QUARANTINE.name).select("source_file"))
        .where(F.col("source_file").isin(list(files)))
        .groupBy("source_file")
        .count()
        .collect()
    )
    return {r.source_file: r["count"] for r in rows}


def _assert_each_id_stored_once(spark) -> None:
    ids = (
        spark.table(job.TRANSACTIONS.name)
        .agg(F.count("*").alias("rows"), F.countDistinct("transaction_id").alias("ids"))
        .first()
    )
    assert ids.rows == ids.ids


def test_stream_stores_scores_and_aggregates_every_event_once(spark, streamed):
    expected = _manifest(streamed)
    assert _stored_per_file(spark, expected) == expected  # events in = valid + quarantined
    _assert_each_id_stored_once(spark)
    reasons = [r.rejection_reason for r in spark.table(job.QUARANTINE.name).collect()]
    for kind, prefix in REASON_OF_KIND.items():
        assert any(r.startswith(prefix) for r in reasons), kind

    valid = spark.table(job.TRANSACTIONS.name)
    assert valid.where("anomaly_score is null").count() == 0
    alerts = spark.table(job.ALERTS.name).collect()
    assert alerts, "the injected anomalies raised no alert"
    for alert in alerts:
        assert alert.anomaly_score >= alert.threshold
        assert len(alert.reasons.split("; ")) == 3
    live = spark.table(job.LIVE_VOLUME.name).agg(F.sum("transaction_count")).first()[0]
    assert live == valid.count()
    log = spark.table(job.BATCHES.name).agg(F.sum("events"), F.sum("valid")).first()
    assert (log[0], log[1]) == (
        valid.count() + spark.table(job.QUARANTINE.name).count(),
        valid.count(),
    )


def test_a_replayed_batch_replaces_its_first_attempt(spark, streamed, tmp_path):
    files = sorted(str(p) for p in config.paths().stream_landing.glob("events-*.json"))[:2]
    lines = [line for p in files for line in Path(p).read_text().splitlines()]
    fresh = tmp_path / "fresh.json"  # the same events under ids never stored
    fresh.write_text("".join(_renamed(line, "replay-") + "\n" for line in lines))
    context = job.load_context(spark, config.stream())
    batch_id = 10**9  # far from the ids the running stream uses

    def attempt(paths: list[str], batch: int) -> list[int]:
        job.process_batch(spark, context, job.read_files(spark, paths), batch)
        for table in job.TABLES:
            spark.catalog.refreshTable(table.name)
        return [
            spark.table(t.name).where(f"stream_batch_id = {batch}").count()
            for t in (job.TRANSACTIONS, job.QUARANTINE)
        ]

    # The stream ingested these events before, so every one is now a duplicate, once.
    assert attempt(files, batch_id) == attempt(files, batch_id) == [0, len(lines)]
    # New events: the second attempt replaces the first, its own rows are not duplicates.
    first = attempt([str(fresh)], batch_id + 1)
    assert first[0] > 0 and sum(first) == len(lines)
    assert attempt([str(fresh)], batch_id + 1) == first


def _renamed(line: str, prefix: str) -> str:
    try:
        event = json.loads(line)
    except ValueError:
        return line  # a malformed event stays malformed
    if isinstance(event, dict) and isinstance(event.get("transaction_id"), str):
        event["transaction_id"] = prefix + event["transaction_id"]
    return json.dumps(event)


def test_dbt_loads_streamed_transactions_into_the_facts_once(spark, streamed):
    committed = spark.table(job.TRANSACTIONS.name).count()
    assert committed > 0
    dbt.build()
    facts = spark.table("marts.fct_transactions")
    assert facts.where("source_system = 'stream'").count() == committed
    dbt.build()  # nothing new: nothing added
    assert spark.table("marts.fct_transactions").where("source_system = 'stream'").count() == (
        committed
    )


@pytest.mark.skipif(
    config.metastore_mode() != "postgres",
    reason="a second process on the warehouse needs FRONTIER_METASTORE=postgres (CI runs it)",
)
def test_sigkill_mid_batch_loses_and_duplicates_nothing(spark, streamed, tmp_path):
    manifest = tmp_path / "crash.jsonl"
    feed.simulate(rate=1500, seconds=4, manifest=manifest)
    env = dict(os.environ, FRONTIER_STREAM_MAX_FILES="1")  # many small batches to kill
    command = [sys.executable, "-m", "frontier.cli", "stream"]
    log = tmp_path / "stream.log"
    rng = random.Random(3)
    for attempt in range(3):
        with open(log, "w") as out:
            proc = subprocess.Popen([*command, "--idle", "60"], env=env, stderr=out, stdout=out)
        deadline = time.time() + 180
        while "[stream] batch" not in log.read_text():  # kill once batches are flowing
            assert proc.poll() is None, log.read_text()
            assert time.time() < deadline, f"attempt {attempt}: no batch in 180 s"
            time.sleep(0.2)
        time.sleep(rng.uniform(0.1, 2.5))  # somewhere inside a later batch
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finished = subprocess.run(
        [*command, "--available-now"], env=env, capture_output=True, text=True, timeout=600
    )
    assert finished.returncode == 0, finished.stderr[-3000:]

    expected = _manifest(manifest)
    assert _stored_per_file(spark, expected) == expected
    _assert_each_id_stored_once(spark)


def test_replay_re_emits_a_day_of_history_shifted_to_now(spark, generated, tmp_path):
    day = dt.date(2024, 6, 3)
    expected = (
        spark.table("raw.core_transactions")
        .where(F.to_date("transaction_ts") == F.lit(day))
        .count()
    )
    manifest = tmp_path / "replay.jsonl"
    started = dt.datetime.now(dt.UTC)
    landed = feed.replay(day, days=1, speed=4 * 86_400, manifest=manifest)

    assert landed.events == expected > 0
    replayed = [
        json.loads(line)
        for name in _manifest(manifest)
        for line in (config.paths().stream_landing / name).read_text().splitlines()
    ]
    assert len(replayed) == expected
    assert all(e["transaction_id"].startswith("R") for e in replayed)
    stamps = [dt.datetime.fromisoformat(e["event_at"].replace("Z", "+00:00")) for e in replayed]
    assert started - dt.timedelta(seconds=1) <= min(stamps) <= max(stamps)
    assert max(stamps) <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)


def test_live_features_follow_the_dbt_windows():
    """Burst count and seconds since the previous event, as ``feat_transaction_anomaly``
    computes them: earlier events of the account in the stream (batch included), else its last
    posting in the warehouse; ratios to a zero spread are missing, not infinite."""
    import pyarrow as pa

    from frontier.stream import scoring

    now = 1_790_000_000
    profile = {name: np.array([np.nan, np.nan]) for name in scoring.PROFILE_COLUMNS}
    profile.update(
        profile_mean_amount=np.array([100.0, np.nan]),
        profile_stddev_amount=np.array([0.0, np.nan]),
        profile_max_amount=np.array([200.0, np.nan]),
        last_posting_seconds=np.array([now - 5000.0, now - 1000.0]),
    )
    known = scoring.Accounts(ids=np.array([10, 20]), region_id=np.array([1.0, 2.0]),
                             profile=profile)  # fmt: skip
    # account 10 had events 700 s (outside the window by now) and 300 s ago
    recent = scoring.Recent.of(np.array([0, 0]), np.array([now - 700, now - 300]), now)
    stamps = [now - 10, now - 5, now - 1]
    valid = pa.table({
        "event_at": pa.array([s * 1_000_000 for s in stamps], pa.timestamp("us", tz="UTC")),
        "account_id": pa.array([10, 10, 20], pa.int64()),
        "amount_czk": pa.array([50, 100, 7], pa.float64()).cast(pa.decimal128(18, 2)),
        "country_code": ["CZ", "DE", "CZ"],
        "channel": ["card_pos"] * 3,
        "merchant_category": ["groceries", None, "travel"],
        "direction": ["debit"] * 3,
    })  # fmt: skip

    merged = recent.with_batch(valid, known)
    featured = scoring.features(valid, merged, known)

    assert featured["txn_count_prev_10_min"].tolist() == [1, 2, 0]
    assert featured["seconds_since_previous"].tolist() == [290, 5, 999]
    assert featured["is_foreign"].tolist() == [0, 1, 0]
    assert featured["amount_to_profile_mean"].tolist()[:2] == [0.5, 1.0]
    assert featured["amount_to_profile_max"].tolist()[:2] == [0.25, 0.5]
    assert featured["amount_zscore"].isna().all()  # zero spread, or no profile
    assert featured["profile_txn_count"].tolist() == [0, 0, 0]
    assert len(merged.since(now).keys) == 4  # the batch's three events and the one 300 s ago
