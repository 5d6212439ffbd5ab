"""Transaction events: the wire format, parsing and validation.

An event is one JSON object per line::

    {"transaction_id": "S...", "account_id": 1000001, "event_at": "2026-11-25T20:15:03.120Z",
     "amount": 450.0, "currency": "CZK", "direction": "debit", "channel": "card_pos",
     "merchant_category": "groceries", "counterparty": "...", "country": "CZ"}

``merchant_category``, ``counterparty`` and ``balance_after`` may be absent; every other field is
required. Every field is read as text first, so a wrong type is a precise rejection reason
rather than a silent null. Parsing and validation are ``DataFrame -> DataFrame`` functions run
by Spark; the duplicate check needs the ids stored before, which the stream keeps on the driver
(``SeenIds``), so it runs there, on the batch's rows as Arrow. Both run on a ten-row batch in
the tests.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from frontier.generator import transactions as generated

REQUIRED = (
    "transaction_id", "account_id", "event_at", "amount", "currency", "direction", "channel",
    "country",
)  # fmt: skip
OPTIONAL = ("merchant_category", "counterparty", "balance_after")
CHANNELS = ("card_pos", "mobile", "online", "transfer", "branch", "atm")
DIRECTIONS = ("debit", "credit")
MAX_AMOUNT_CZK = 100_000_000
# Events stamped more than this after ingestion are rejected (clock skew at the source).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
_CORRUPT = "_corrupt_record"
SCHEMA = StructType(
    [StructField(name, StringType()) for name in REQUIRED + OPTIONAL]
    + [StructField(_CORRUPT, StringType())]
)

# Columns of a validated event, in the order the stream tables store them.
VALIDATED_COLUMNS = (
    "transaction_id", "account_id", "event_at", "amount", "currency_code", "amount_czk",
    "direction", "channel", "merchant_category", "counterparty", "country_code",
    "balance_after_czk",
)  # fmt: skip


# The validation's expressions are built once per process (``functools.cache``) and reused by
# every micro-batch: building them is a few thousand calls into the JVM, a third of a second
# per batch otherwise.


def parse(lines: DataFrame) -> DataFrame:
    """``value`` (one line of text) -> one text column per field, plus ``is_malformed``."""
    event, fields = _parse_columns()
    return lines.select("*", event).select(*lines.columns, *fields)


@functools.cache
def _parse_columns() -> tuple[Column, tuple[Column, ...]]:
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT}
    event = F.from_json("value", SCHEMA, options).alias("_event")
    malformed = F.col("_event").isNull() | F.col(f"_event.{_CORRUPT}").isNotNull()
    fields = [F.col(f"_event.{name}").alias(f"{name}_text") for name in REQUIRED + OPTIONAL]
    return event, (*fields, malformed.alias("is_malformed"))


def _missing(names: tuple[str, ...]) -> Column:
    flags = [F.when(F.col(f"{n}_text").isNull(), F.lit(n)) for n in names]
    return F.concat_ws(", ", *flags)


def typed(parsed: DataFrame, fx_rates: dict[str, float]) -> DataFrame:
    """Typed values next to their text (null where the text does not parse)."""
    return parsed.select("*", *_typed_columns(tuple(sorted(fx_rates.items()))))


@functools.cache
def _typed_columns(fx_rates: tuple[tuple[str, float], ...]) -> tuple[Column, ...]:
    text = {name: F.col(f"{name}_text") for name in REQUIRED + OPTIONAL}
    currency = F.upper(F.trim(text["currency"]))
    amount = F.expr("try_cast(amount_text as double)")
    czk = generated.czk_per_unit(currency, dict(fx_rates))
    return (
        F.trim(text["transaction_id"]).alias("transaction_id"),
        F.expr("try_cast(account_id_text as bigint)").alias("account_id"),
        F.expr("try_to_timestamp(event_at_text)").alias("event_at"),
        amount.alias("amount_value"),
        amount.cast("decimal(18,2)").alias("amount"),
        currency.alias("currency_code"),
        (amount * czk).alias("amount_czk_value"),
        F.round(amount * czk, 2).cast("decimal(18,2)").alias("amount_czk"),
        F.lower(F.trim(text["direction"])).alias("direction"),
        F.lower(F.trim(text["channel"])).alias("channel"),
        F.lower(F.trim(text["merchant_category"])).alias("merchant_category"),
        text["counterparty"].alias("counterparty"),
        F.upper(F.trim(text["country"])).alias("country_code"),
        F.expr("try_cast(balance_after_text as decimal(18,2))").alias("balance_after_czk"),
        czk.isNotNull().alias("is_known_currency"),
    )  # fmt: skip


def validate(parsed: DataFrame, fx_rates: dict[str, float]) -> DataFrame:
    """Type each event and give it ``rejection_reason`` (null when it is valid, so far).

    The checks here need nothing but the event; ``check`` runs those that need the stream's
    state or clock (known account, watermark, duplicate id) on the driver.
    """
    events = typed(parsed, fx_rates)
    helpers = {"is_known_currency", "amount_value", "amount_czk_value"}
    kept = [c for c in events.columns if c not in helpers]
    return events.select(*kept, _reason().alias("rejection_reason"))


@functools.cache
def _reason() -> Column:
    text = {name: F.col(f"{name}_text") for name in REQUIRED + OPTIONAL}
    missing = _missing(REQUIRED)
    reason = (
        F.when(F.col("is_malformed"), F.lit("malformed JSON"))
        .when(missing != "", F.concat(F.lit("missing field: "), missing))
        .when(F.col("transaction_id") == "", F.lit("missing field: transaction_id"))
        .when(
            F.col("account_id").isNull(),
            F.concat(F.lit("account_id is not an integer: "), text["account_id"]),
        )
        .when(
            F.col("event_at").isNull(),
            F.concat(F.lit("event_at is not a timestamp: "), text["event_at"]),
        )
        .when(
            F.col("amount_value").isNull() | F.isnan("amount_value"),
            F.concat(F.lit("amount is not a number: "), text["amount"]),
        )
        .when(F.col("amount_value") <= 0, F.concat(F.lit("amount not positive: "), text["amount"]))
        .when(
            ~F.col("is_known_currency"),
            F.concat(F.lit("unknown currency: "), F.col("currency_code")),
        )
        .when(
            F.col("amount_czk_value") > MAX_AMOUNT_CZK,
            F.concat(
                F.lit("amount out of range: "),
                text["amount"],
                F.lit(" "),
                F.col("currency_code"),
                F.lit(f" is over {MAX_AMOUNT_CZK} CZK"),
            ),
        )  # fmt: skip
        .when(
            ~F.col("direction").isin(*DIRECTIONS),
            F.concat(F.lit("unknown direction: "), text["direction"]),
        )
        .when(
            ~F.col("channel").isin(*CHANNELS),
            F.concat(F.lit("unknown channel: "), text["channel"]),
        )
        .when(
            text["balance_after"].isNotNull() & F.col("balance_after_czk").isNull(),
            F.concat(F.lit("balance_after is not a number: "), text["balance_after"]),
        )
    )
    return reason


class SeenIds:
    """The valid transaction ids already stored in the watermark window, with the batch that
    stored each: the duplicate check's state, held on the driver between micro-batches.

    Kept per event day, so a day the watermark closes is dropped whole. Its memory grows with the
    events of the window (about 100 bytes per id, in a Python dict).
    """

    def __init__(self) -> None:
        self._days: dict[dt.date, dict[str, int]] = {}

    def __len__(self) -> int:
        return sum(len(ids) for ids in self._days.values())

    def add(self, days: Sequence[dt.date], ids: Sequence[str], batch_ids: Sequence[int]) -> None:
        for day, transaction_id, batch_id in zip(days, ids, batch_ids, strict=True):
            self._days.setdefault(day, {})[transaction_id] = batch_id

    def keep(self, days: Sequence[dt.date]) -> None:
        """Forget every day but these (the days the watermark leaves open)."""
        self._days = {day: ids for day, ids in self._days.items() if day in set(days)}

    def batch_of(self, ids: Sequence[str]) -> list[int | None]:
        """For each id, the batch that stored it, or None."""
        days = list(self._days.values())
        found = []
        for transaction_id in ids:
            batch = None
            for stored in days:
                batch = stored.get(transaction_id)
                if batch is not None:
                    break
            found.append(batch)
        return found


def check(
    rows: pa.Table,
    known_accounts: np.ndarray,
    ingested_at: dt.datetime,
    lateness: dt.timedelta,
    seen: SeenIds,
    batch_id: int,
) -> pa.Table:
    """``rows`` (validated, with ``event_at_text``) with the checks that need the stream's state
    or clock added to ``rejection_reason``, in this order after ``validate``'s:

    - the account is unknown (``known_accounts``: every account id, sorted);
    - the event is stamped more than ``FUTURE_TOLERANCE`` after ``ingested_at`` (the batch's
      processing time), or more than ``lateness`` before it: late events are quarantined
      rather than folded into closed aggregates — the stream's watermark;
    - its id is already stored (``seen``) by another batch than ``batch_id`` (a replay of a batch
      replaces its own rows), or repeats an earlier valid event of the batch: the first landed
      copy wins (by ``landed_at``, ``event_at``, then the raw text).

    Runs on the driver, where the batch's rows are (job.py).
    """
    columns = ["transaction_id", "account_id", "event_at", "rejection_reason"]
    frame = rows.select(columns).to_pandas()
    reason = frame["rejection_reason"].astype(object)

    def reject(where: np.ndarray, prefix: str, values: pa.ChunkedArray, suffix: str = "") -> None:
        at = np.flatnonzero(where & reason.isna().to_numpy())
        texts = values.take(at).cast(pa.string()).to_pylist()
        reason.iloc[at] = [f"{prefix}{text}{suffix}" for text in texts]

    account = frame["account_id"].fillna(-1).astype(np.int64).to_numpy()
    reject(~is_in(known_accounts, account), "unknown account_id: ", rows["account_id"])
    utc_ingested_at = pd.Timestamp(ingested_at.replace(tzinfo=dt.UTC))
    event_at = frame["event_at"]
    reject((event_at > utc_ingested_at + FUTURE_TOLERANCE).to_numpy(),
           "event_at in the future: ", rows["event_at_text"])  # fmt: skip
    reject((event_at < utc_ingested_at - lateness).to_numpy(), "late event: event_at ",
           rows["event_at_text"],
           f" is more than {_describe(lateness)} before ingestion (the watermark)")  # fmt: skip

    valid = frame[reason.isna()]
    repeated = valid[valid["transaction_id"].duplicated(keep=False)]
    if len(repeated):
        at = repeated.index.to_numpy()
        ties = repeated.assign(
            landed_at=rows["landed_at"].take(at).to_pandas().to_numpy(),
            value=rows["value"].take(at).to_pandas().to_numpy(),
        ).sort_values(["landed_at", "event_at", "value"], kind="stable")
        later = ties.index[ties["transaction_id"].duplicated(keep="first")]
        reason.loc[later] = "duplicate transaction_id in the batch"
    stored_in = pd.Series(seen.batch_of(valid["transaction_id"].tolist()), index=valid.index)
    stored_in = stored_in[stored_in.notna() & (stored_in != batch_id)]  # not this batch's replay
    reason.loc[stored_in.index] = [
        f"duplicate transaction_id: already ingested in batch {int(batch)}" for batch in stored_in
    ]
    checked = pa.array(reason.where(reason.notna(), None).tolist(), pa.string())
    return rows.set_column(
        rows.schema.get_field_index("rejection_reason"), "rejection_reason", checked
    )


def is_in(sorted_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each value is one of ``sorted_ids`` (sorted ascending)."""
    if len(sorted_ids) == 0:
        return np.zeros(len(values), dtype=bool)
    position = np.searchsorted(sorted_ids, values).clip(0, len(sorted_ids) - 1)
    return sorted_ids[position] == values


def _describe(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hours"
