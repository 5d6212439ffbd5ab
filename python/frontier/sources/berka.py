"""``frontier load berka``: the PKDD'99 Czech bank as a second core banking system.

Reads the challenge's ``;``-separated files (``../shared/datasets/berka_pkdd99`` by default,
``FRONTIER_BERKA_PATH`` or ``--path`` otherwise), decodes what only its publishers' notes explain
and lands each table as a ``raw.berka_*`` extract (every column text, like the generator's):

- ``yymmdd`` dates (19yy) become ``yyyy-MM-dd``;
- birth numbers (``yymmdd`` with the month + 50 for women) become a birth date and a sex;
- Czech codes become English ones: statement frequency, disposition type, transaction type,
  operation and purpose (``k_symbol``), e.g. ``PREVOD Z UCTU`` -> ``collection_from_other_bank``;
- each transaction gets its ``booking_sequence`` in its account, the order its running balance
  implies (the bank books dates, not times; see :func:`booking_sequence`).

A code the notes do not list is landed as it is, so the staging tests name it rather than the
loader hiding it. The transactions are the complete 1993-01-01..1994-10-30 window, landed as one
batch dated the day the window ends. dbt's ``staging/berka`` models map these extracts onto the
shapes the shared marts read; ``frontier build`` builds them when the warehouse's core source is
``berka`` (``frontier load berka`` records that, ``frontier generate`` sets it back to ``core``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from pyspark.sql import SparkSession

from frontier import config, raw

SOURCE = "berka"
WINDOW_END = "1994-10-30"  # the last day of the transaction window the dataset ships
FILES = {
    "accounts": "account.asc",
    "clients": "client.asc",
    "dispositions": "disp.asc",
    "districts": "district.asc",
    "cards": "card.asc",
    "loans": "loan.asc",
    "orders": "order.asc",
    "transactions": "trans_window_930101_941030.csv.gz",
}
FREQUENCY = {
    "POPLATEK MESICNE": "monthly",
    "POPLATEK TYDNE": "weekly",
    "POPLATEK PO OBRATU": "after_transaction",
}
TRANSACTION_TYPE = {"PRIJEM": "credit", "VYDAJ": "withdrawal", "VYBER": "cash_withdrawal"}
OPERATION = {
    "VYBER KARTOU": "card_withdrawal",
    "VKLAD": "cash_credit",
    "PREVOD Z UCTU": "collection_from_other_bank",
    "VYBER": "cash_withdrawal",
    "PREVOD NA UCET": "remittance_to_other_bank",
}
PURPOSE = {
    "POJISTNE": "insurance",
    "SLUZBY": "statement_fee",
    "UROK": "interest",
    "SANKC. UROK": "penalty_interest",
    "SIPO": "household",
    "DUCHOD": "pension",
    "UVER": "loan_payment",
    "LEASING": "leasing",
}
DISTRICT_COLUMNS = [
    "district_id", "district_name", "region_name", "inhabitants", "municipalities_lt_500",
    "municipalities_500_1999", "municipalities_2000_9999", "municipalities_ge_10000", "cities",
    "urban_ratio", "average_salary", "unemployment_rate_1995", "unemployment_rate_1996",
    "entrepreneurs_per_1000", "crimes_1995", "crimes_1996",
]  # fmt: skip


class BerkaError(ValueError):
    """The dataset folder is missing files or they do not have the published layout."""


def default_path() -> Path:
    override = os.environ.get("FRONTIER_BERKA_PATH")
    if override:
        return Path(override)
    return config.project_root().parent / "shared" / "datasets" / "berka_pkdd99"


def yymmdd(values: pd.Series) -> pd.Series:
    """``930705`` (or ``931107 00:00:00``) -> ``1993-07-05``; anything else -> empty."""
    text = values.astype(str).str.strip().str.slice(0, 6)
    parsed = pd.to_datetime("19" + text, format="%Y%m%d", errors="coerce")
    return parsed.dt.strftime("%Y-%m-%d").fillna("")


def birth_number(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Birth numbers ``yymmdd`` (women: month + 50) -> (birth date, ``female``/``male``)."""
    text = values.astype(str).str.strip().str.zfill(6)
    month = pd.to_numeric(text.str.slice(2, 4), errors="coerce")
    female = month > 50
    real_month = (month - 50).where(female, month)
    plain = text.str.slice(0, 2) + real_month.fillna(0).astype(int).astype(str).str.zfill(2)
    birth = yymmdd(plain + text.str.slice(4, 6))
    sex = female.map({True: "female", False: "male"}).where(birth != "", "")
    return birth, sex


def booking_sequence(t: pd.DataFrame) -> pd.Series:
    """Each posting's place in its account's booking order (1, 2, …), from the running balance.

    The bank books dates without a time, and a day's postings are not in id order (month-end
    interest is booked before the statement fee, say). Within a day the order is the one whose
    balances chain: each posting's balance before it (balance after minus its signed amount) is
    the previous posting's balance after. Ties and the amounts the bank rounded are settled by the
    closest balance, then by id.
    """
    amount = pd.to_numeric(t["amount"], errors="coerce").fillna(0.0)
    balance = pd.to_numeric(t["balance"], errors="coerce").fillna(0.0)
    signed = amount.where(t["type"].str.strip() == "PRIJEM", -amount)
    frame = pd.DataFrame({
        "account": t["account_id"], "date": t["date"],
        "id": pd.to_numeric(t["trans_id"], errors="coerce"), "after": balance,
        "before": balance - signed,
    }).sort_values(["account", "date", "id"])  # fmt: skip
    # Only days with several postings need ordering; the rest keep id order.
    frame["size"] = frame.groupby(["account", "date"])["id"].transform("size")
    position = {index: i for i, index in enumerate(frame.index)}
    order = list(frame.index)
    previous_after: dict[int, float] = {}  # position -> balance after, once reordered
    for (_, _), day in frame[frame["size"] > 1].groupby(["account", "date"], sort=True):
        rows = list(day.itertuples())
        first = position[rows[0].Index]
        if first > 0 and frame["account"].iat[first - 1] == rows[0].account:
            start = previous_after.get(first - 1, frame["after"].iat[first - 1])
        else:  # the account's first day: start from the posting no other one precedes
            afters = [r.after for r in rows]
            firsts = [r for r in rows if min(abs(r.before - a) for a in afters) > 0.005]
            start = (firsts or rows)[0].before
        for offset in range(len(rows)):
            best = min(rows, key=lambda r: (round(abs(r.before - start), 2), r.id))
            rows.remove(best)
            order[first + offset] = best.Index
            start = best.after
        previous_after[first + len(day) - 1] = start
    sequence = pd.Series(0, index=t.index)
    ranked = pd.Series(range(len(order)), index=order)
    sequence.loc[ranked.index] = ranked.values
    per_account = sequence.groupby(t["account_id"]).rank(method="first").astype(int)
    return per_account.astype(str)


def _decode(values: pd.Series, codes: dict[str, str]) -> pd.Series:
    text = values.fillna("").astype(str).str.strip()
    return text.map(lambda v: codes.get(v, v))


def _read(folder: Path, table: str) -> pd.DataFrame:
    path = folder / FILES[table]
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, quotechar='"')
    frame.columns = [c.strip().strip('"') for c in frame.columns]
    return frame


def _expect(frame: pd.DataFrame, table: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BerkaError(f"{FILES[table]} has no column(s) {', '.join(missing)}")


def extracts(folder: Path) -> dict[str, pd.DataFrame]:
    """The decoded extracts, one pandas frame of text columns per raw table."""
    absent = [name for name in FILES.values() if not (folder / name).is_file()]
    if absent:
        raise BerkaError(f"{folder} lacks {', '.join(absent)} (the PKDD'99 files)")
    out: dict[str, pd.DataFrame] = {}

    a = _read(folder, "accounts")
    _expect(a, "accounts", ["account_id", "district_id", "frequency", "date"])
    out["accounts"] = pd.DataFrame({
        "account_id": a.account_id, "district_id": a.district_id,
        "statement_frequency": _decode(a.frequency, FREQUENCY), "opened_date": yymmdd(a.date),
    })  # fmt: skip

    c = _read(folder, "clients")
    _expect(c, "clients", ["client_id", "birth_number", "district_id"])
    birth, sex = birth_number(c.birth_number)
    out["clients"] = pd.DataFrame(
        {"client_id": c.client_id, "birth_date": birth, "sex": sex, "district_id": c.district_id}
    )

    d = _read(folder, "dispositions")
    _expect(d, "dispositions", ["disp_id", "client_id", "account_id", "type"])
    out["dispositions"] = pd.DataFrame({
        "disposition_id": d.disp_id, "client_id": d.client_id, "account_id": d.account_id,
        "disposition_type": d.type.str.strip().str.lower(),
    })  # fmt: skip

    districts = _read(folder, "districts")
    if len(districts.columns) != len(DISTRICT_COLUMNS):
        raise BerkaError(f"{FILES['districts']} has {len(districts.columns)} columns, not 16")
    districts.columns = DISTRICT_COLUMNS
    out["districts"] = districts.replace({"?": ""})  # two districts miss the 1995 figures

    k = _read(folder, "cards")
    _expect(k, "cards", ["card_id", "disp_id", "type", "issued"])
    out["cards"] = pd.DataFrame({
        "card_id": k.card_id, "disposition_id": k.disp_id, "card_type": k.type.str.strip(),
        "issued_date": yymmdd(k.issued),
    })  # fmt: skip

    loans = _read(folder, "loans")
    _expect(loans, "loans", ["loan_id", "account_id", "date", "amount", "duration", "payments",
                             "status"])  # fmt: skip
    out["loans"] = pd.DataFrame({
        "loan_id": loans.loan_id, "account_id": loans.account_id,
        "granted_date": yymmdd(loans.date), "amount": loans.amount,
        "duration_months": loans.duration, "monthly_payment": loans.payments,
        "status": loans.status.str.strip(),
    })  # fmt: skip

    o = _read(folder, "orders")
    _expect(o, "orders", ["order_id", "account_id", "bank_to", "account_to", "amount", "k_symbol"])
    out["orders"] = pd.DataFrame({
        "order_id": o.order_id, "account_id": o.account_id, "partner_bank": o.bank_to,
        "partner_account": o.account_to, "amount": o.amount,
        "purpose": _decode(o.k_symbol, PURPOSE),
    })  # fmt: skip

    t = _read(folder, "transactions")
    _expect(t, "transactions", ["trans_id", "account_id", "date", "type", "operation", "amount",
                                "balance", "k_symbol", "bank", "account"])  # fmt: skip
    out["transactions"] = pd.DataFrame({
        "transaction_id": t.trans_id, "account_id": t.account_id,
        "transaction_date": yymmdd(t.date),
        "transaction_type": _decode(t.type, TRANSACTION_TYPE),
        "operation": _decode(t.operation, OPERATION), "amount": t.amount, "balance": t.balance,
        "purpose": _decode(t.k_symbol, PURPOSE), "partner_bank": t.bank,
        "partner_account": t.account, "booking_sequence": booking_sequence(t),
    })  # fmt: skip
    return out


def load(spark: SparkSession, folder: Path | None = None) -> dict[str, int]:
    """Land every extract as ``raw.berka_*``; make berka the warehouse's core source."""
    folder = (folder or default_path()).expanduser().resolve()
    frames = extracts(folder)
    raw.clear_source(spark, SOURCE)
    counts = {}
    for table, frame in frames.items():
        df = spark.createDataFrame(frame.astype(str))
        if table == "transactions":
            raw.land_batch(spark, SOURCE, table, df, batch_date=WINDOW_END)
        else:
            raw.land_snapshot(spark, SOURCE, table, df)
        counts[f"raw.{SOURCE}_{table}"] = len(frame)
    config.set_core_source(SOURCE)
    return counts
