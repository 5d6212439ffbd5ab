"""Live transaction feeds for the stream: ``frontier simulate`` and ``frontier replay``.

Both write newline-delimited JSON files (``events.SCHEMA``) into the stream landing folder, each
file first under a hidden name and then renamed, so the stream never reads half a file. No Spark
here: a feed runs beside the stream job (and, on the embedded metastore, beside nothing else).

- ``simulate`` draws the generator's bank again from the landed manifest (same seed, same
  accounts and hidden profiles), and emits current-time transactions drawn the way the history
  was, with injected anomalies (amount spikes, high foreign amounts, bursts) and a share of bad
  events of every kind the stream must quarantine.
- ``replay`` re-emits a window of the landed history at a chosen speed, shifted to the present
  (ids get a replay prefix: they are new events, not the booked ones).

Each feed can append one JSON line per landed file to a manifest (file, landing time, event
count, bad events by kind, injected anomaly ids), which ``frontier bench stream`` and the tests
compare with what the stream stored.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from frontier import config, generator
from frontier.generator import transactions as generated

BAD_KINDS = (
    "malformed_json", "wrong_type", "missing_field", "absurd_amount", "unknown_account",
    "duplicate_id", "far_past",
)  # fmt: skip
BURST_EVENTS = 6
TICK_SECONDS = 0.5


@dataclass
class Landed:
    """What one feed run put into the landing folder."""

    files: int = 0
    events: int = 0
    bad: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BAD_KINDS, 0))
    anomalies: int = 0


def _iso(seconds: np.ndarray) -> list[str]:
    stamps = pd.to_datetime(seconds, unit="s", utc=True)
    return [s.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" for s in stamps]


def _line(event: dict) -> str:
    return json.dumps(event, separators=(",", ":"))


class Writer:
    """Lands files atomically and records each in the manifest."""

    def __init__(self, manifest: Path | None) -> None:
        self.folder = config.paths().stream_landing
        self.folder.mkdir(parents=True, exist_ok=True)
        self.run = uuid.uuid4().hex[:8]
        self.manifest = open(manifest, "a") if manifest else None  # noqa: SIM115
        self.landed = Landed()

    def land(self, lines: list[str], bad: dict[str, int], anomaly_ids: list[str]) -> None:
        name = f"events-{self.run}-{self.landed.files:07d}.json"
        hidden = self.folder / f".{name}.tmp"
        hidden.write_text("\n".join(lines) + "\n")
        os.replace(hidden, self.folder / name)
        landed_ms = int(time.time() * 1000)
        self.landed.files += 1
        self.landed.events += len(lines)
        self.landed.anomalies += len(anomaly_ids)
        for kind, n in bad.items():
            self.landed.bad[kind] += n
        if self.manifest:
            record = {"file": name, "landed_at_ms": landed_ms, "events": len(lines), "bad": bad,
                      "anomaly_ids": anomaly_ids}  # fmt: skip
            self.manifest.write(json.dumps(record) + "\n")
            self.manifest.flush()

    def close(self) -> Landed:
        if self.manifest:
            self.manifest.close()
        return self.landed


class Simulator:
    """Draws live events for the generator's bank."""

    def __init__(self, seed: int, bad_share: float, anomaly_share: float) -> None:
        manifest = config.paths().landing / generator.SOURCE / generator.MANIFEST
        if not manifest.is_file():
            raise FileNotFoundError(
                f"no generated bank at {manifest}: run `frontier generate` (or `make demo`) first"
            )
        spec = generator.Spec(**json.loads(manifest.read_text())["spec"])
        bank = generator.draw_bank(spec)
        open_accounts = bank.accounts[bank.accounts["closed_idx"] >= spec.period.days]
        self.account_ids = open_accounts["account_id"].to_numpy()
        weight = open_accounts["activity"].to_numpy()
        self.account_p = weight / weight.sum()
        self.income = open_accounts["income_factor"].to_numpy()
        self.risk = open_accounts["risk"].to_numpy()
        self.rng = np.random.default_rng(seed)
        self.bad_share = bad_share
        self.anomaly_share = anomaly_share
        self.fx = generator.fx_rates()
        self.prefix = uuid.uuid4().hex[:6]
        self.seq = 0
        self.recent: list[str] = []  # recent good lines, for duplicate-id events
        self.bad_turn = 0

    def _ids(self, n: int) -> list[str]:
        ids = [f"S{self.prefix}{self.seq + i:010d}" for i in range(n)]
        self.seq += n
        return ids

    def _normal_events(self, n: int, start: float, span: float) -> list[dict]:
        rng = self.rng
        idx = rng.choice(len(self.account_ids), size=n, p=self.account_p)
        income, risk = self.income[idx], self.risk[idx]
        is_credit = rng.random(n) < generated.CREDIT_SHARE
        p_atm = 0.06 + 0.40 * risk
        channels = list(generated.DEBIT_CHANNELS)
        channel_p = np.array(list(generated.DEBIT_CHANNELS.values()))
        channel_p = channel_p / channel_p.sum()
        debit_channel = np.where(
            rng.random(n) < p_atm, "atm", rng.choice(channels, size=n, p=channel_p)
        )
        categories = list(generated.PURCHASE_CATEGORIES)
        shares = np.array([s for s, _ in generated.PURCHASE_CATEGORIES.values()])
        purchase = rng.choice(categories, size=n, p=shares / shares.sum())
        bills = list(generated.BILL_CATEGORIES)
        bill_p = np.array([s for s, _ in generated.BILL_CATEGORIES.values()])
        bill = rng.choice(bills, size=n, p=bill_p / bill_p.sum())
        channel = np.where(is_credit, "transfer", debit_channel)
        category = np.where(
            is_credit,
            "transfer_in",
            np.where(
                np.isin(channel, ["atm", "branch"]),
                "cash",
                np.where(channel == "transfer", bill, purchase),
            ),
        )
        medians = {**{k: m for k, (_, m) in generated.PURCHASE_CATEGORIES.items()},
                   **{k: m for k, (_, m) in generated.BILL_CATEGORIES.items()},
                   "cash": generated.CASH_MEDIAN,
                   "transfer_in": generated.mean_debit_czk()}  # fmt: skip
        median = np.array([medians[c] for c in category])
        amount_czk = median * income * rng.lognormal(0, 0.6, size=n)
        foreign = (~is_credit) & (rng.random(n) < 0.03)
        countries = list(generated.FOREIGN)
        country = np.where(foreign, rng.choice(countries, size=n), "CZ")
        at = _iso(start + np.sort(rng.random(n)) * span)
        events = []
        for i, tid in enumerate(self._ids(n)):
            cur = generated.FOREIGN.get(country[i], "CZK")
            events.append({
                "transaction_id": tid, "account_id": int(self.account_ids[idx[i]]),
                "event_at": at[i], "amount": round(float(amount_czk[i]) / self.fx[cur], 2),
                "currency": cur, "direction": "credit" if is_credit[i] else "debit",
                "channel": str(channel[i]), "merchant_category": str(category[i]),
                "counterparty": f"M{int(idx[i]) % 997:04d}", "country": str(country[i]),
            })  # fmt: skip
        return events

    def _anomalies(self, events: list[dict]) -> list[str]:
        """Turn a share of the events into anomalies; returns their ids."""
        n = self.rng.binomial(len(events), self.anomaly_share)
        ids = []
        for i in self.rng.choice(len(events), size=n, replace=False):
            e = events[i]
            kind = self.rng.integers(3)
            e["direction"] = "debit"
            if kind == 0:  # amount far outside the account's habits
                e["amount"] = round(e["amount"] * float(self.rng.uniform(15, 40)), 2)
                ids.append(e["transaction_id"])
            elif kind == 1:  # a distant country with a high amount
                czk = e["amount"] * self.fx[e["currency"]] * 12 + 20_000
                e.update(country=str(self.rng.choice(generated.FAR_COUNTRIES)), currency="USD",
                         amount=round(czk / self.fx["USD"], 2))  # fmt: skip
                ids.append(e["transaction_id"])
            else:  # a burst: several online electronics purchases within seconds
                burst_ids = self._ids(BURST_EVENTS - 1)
                e.update(channel="online", merchant_category="electronics")
                ids.append(e["transaction_id"])
                for tid in burst_ids:
                    events.append({**e, "transaction_id": tid})
                    ids.append(tid)
        return ids

    def _bad_line(self, kind: str, good: dict) -> str:
        e = dict(good, transaction_id=self._ids(1)[0])
        if kind == "malformed_json":
            return _line(e)[: int(self.rng.integers(5, 40))]
        if kind == "wrong_type":
            e["amount"] = f"{e['amount']} CZK"
        elif kind == "missing_field":
            del e["account_id"]
        elif kind == "absurd_amount":
            e["amount"] = 1e13
        elif kind == "unknown_account":
            e["account_id"] = 999_999_999
        elif kind == "duplicate_id":
            earlier = self.recent or [_line(good)]
            return earlier[int(self.rng.integers(len(earlier)))]
        elif kind == "far_past":
            e["event_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z"
            )
        return _line(e)

    def tick(self, n: int, start: float, span: float) -> tuple[list[str], dict[str, int], list]:
        """``n`` events stamped within ``[start, start + span)`` seconds since the epoch."""
        events = self._normal_events(n, start, span)
        anomaly_ids = self._anomalies(events)
        lines = [_line(e) for e in events]
        bad = dict.fromkeys(BAD_KINDS, 0)
        n_bad = self.rng.binomial(len(lines), self.bad_share) if self.bad_share else 0
        for _ in range(n_bad):
            kind = BAD_KINDS[self.bad_turn % len(BAD_KINDS)]
            self.bad_turn += 1
            bad[kind] += 1
            lines.append(self._bad_line(kind, events[int(self.rng.integers(len(events)))]))
        # Duplicate-id events repeat a good line of the previous tick (or of this one at first).
        self.recent = [_line(e) for e in events[:50]]
        return lines, bad, anomaly_ids


def _paced(rate: float, seconds: float) -> Iterator[tuple[int, float, float]]:
    """(events due, window start, window length) every tick for ``seconds``, at ``rate`` per s."""
    begin = time.time()
    due_total = 0.0
    sent = 0
    while True:
        now = time.time()
        elapsed = now - begin
        if elapsed >= seconds:
            return
        due_total = rate * min(elapsed + TICK_SECONDS, seconds)
        n = int(due_total) - sent
        if n > 0:
            yield n, now, TICK_SECONDS
            sent += n
        time.sleep(max(0.0, begin + elapsed + TICK_SECONDS - time.time()))


def simulate(
    rate: float,
    seconds: float,
    seed: int = 7,
    bad_share: float = 0.01,
    anomaly_share: float = 0.002,
    manifest: Path | None = None,
) -> Landed:
    simulator = Simulator(seed, bad_share, anomaly_share)
    writer = Writer(manifest)
    for n, start, span in _paced(rate, seconds):
        writer.land(*simulator.tick(n, start, span))
    return writer.close()


def _history(start: dt.date, days: int) -> pd.DataFrame:
    folder = config.paths().landing / generator.SOURCE / "transactions"
    files = sorted(glob.glob(str(folder / "*" / "*.parquet")))
    if not files:
        raise FileNotFoundError(f"no landed transactions in {folder}: run `frontier generate`")
    lo, hi = start.isoformat(), (start + dt.timedelta(days=days)).isoformat()
    window = [("transaction_ts", ">=", lo), ("transaction_ts", "<", hi)]
    # only the window is read into memory: the filter skips row groups by their statistics
    parts = [pd.read_parquet(path, filters=window) for path in files]
    history = pd.concat(parts).fillna("").sort_values("transaction_ts", kind="stable")
    if history.empty:
        raise ValueError(f"no landed transactions between {lo} and {hi}")
    return history


def replay(
    start: dt.date, days: int = 1, speed: float = 60.0, manifest: Path | None = None
) -> Landed:
    """Re-emit ``days`` of history from ``start`` at ``speed`` times real time, shifted to now."""
    history = _history(start, days)
    origin = pd.Timestamp(start).timestamp()
    offsets = (pd.to_datetime(history["transaction_ts"]).astype("int64") / 1e9 - origin) / speed
    writer = Writer(manifest)
    prefix = f"R{writer.run}-"
    offsets = offsets.to_numpy()
    begin = time.time()
    at = _iso(begin + offsets)
    records = history.to_dict("records")
    i = 0
    while i < len(records):
        j = int(np.searchsorted(offsets, time.time() - begin, side="right"))
        if j > i:
            lines = []
            for k in range(i, j):
                r = records[k]
                lines.append(_line({
                    "transaction_id": prefix + r["transaction_id"], "account_id": r["account_id"],
                    "event_at": at[k], "amount": r["amount"], "currency": r["currency"],
                    "direction": r["direction"], "channel": r["channel"],
                    "merchant_category": r["merchant_category"],
                    "counterparty": r["counterparty"], "country": r["country"],
                }))  # fmt: skip
            writer.land(lines, dict.fromkeys(BAD_KINDS, 0), [])
            i = j
        time.sleep(TICK_SECONDS)
    return writer.close()


__all__ = ["BAD_KINDS", "Landed", "replay", "simulate"]
