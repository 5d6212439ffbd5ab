"""Transactions, drawn in Spark so the generator scales to tens of millions of rows.

Every random choice is a hash of (seed, purpose, transaction key), never ``rand()``: the output is
the same for a seed whatever the partitioning or the number of executors.

Injected anomalies (labelled in a separate table, never in the transactions themselves):

``burst``         six online purchases from one account within four minutes
``amount_spike``  a purchase 15-40x the account's usual amount
``foreign_high``  a large purchase in a country the customer never uses, in USD
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

CREDIT_SHARE = 0.15
BURST_BLOCK = 8  # a burst takes the first BURST_LEN rows of a block of BURST_BLOCK sequence numbers
BURST_LEN = 6
P_BURST_BLOCK = 0.004
P_SPIKE = 0.0015
P_FOREIGN_HIGH = 0.0010

# merchant category -> (share of card/online/mobile purchases, median amount in CZK)
PURCHASE_CATEGORIES = {
    "groceries": (0.34, 450.0),
    "restaurants": (0.16, 380.0),
    "fuel": (0.10, 1_200.0),
    "clothing": (0.08, 1_400.0),
    "electronics": (0.05, 4_500.0),
    "travel": (0.04, 6_000.0),
    "healthcare": (0.05, 700.0),
    "entertainment": (0.08, 600.0),
    "online_retail": (0.10, 1_100.0),
}
BILL_CATEGORIES = {
    "utilities": (0.45, 2_200.0),
    "rent": (0.30, 14_000.0),
    "insurance": (0.25, 1_800.0),
}
GAMBLING_MEDIAN = 900.0
CASH_MEDIAN = 2_000.0
# debit channel -> share (ATM share grows with the hidden risk, see _debit_channel)
DEBIT_CHANNELS = {
    "card_pos": 0.50,
    "mobile": 0.20,
    "online": 0.17,
    "transfer": 0.09,
    "branch": 0.04,
}
FOREIGN = {
    "DE": "EUR",
    "AT": "EUR",
    "SK": "EUR",
    "PL": "PLN",
    "HU": "HUF",
    "IT": "EUR",
    "GB": "GBP",
}
FAR_COUNTRIES = ("US", "BR", "TH", "AE", "NG")
# hour of day -> relative weight of activity
HOUR_WEIGHTS = (
    0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 1.6, 2.4, 2.8, 3.0, 3.2,
    3.4, 3.1, 2.9, 2.9, 3.1, 3.3, 3.2, 2.7, 2.1, 1.5, 0.9, 0.5,
)  # fmt: skip


def uniform(seed: int, purpose: str, *keys: Column | str) -> Column:
    """A deterministic uniform draw in [0, 1) from (seed, purpose, keys)."""
    h = F.xxhash64(F.lit(seed), F.lit(purpose), *keys)
    return F.pmod(h, F.lit(1 << 53)).cast("double") / float(1 << 53)


def normal(seed: int, purpose: str, *keys: Column | str) -> Column:
    """A deterministic standard-normal draw (Box-Muller on two hashed uniforms)."""
    u1 = uniform(seed, purpose + ":1", *keys) * 0.999999 + 0.0000005
    u2 = uniform(seed, purpose + ":2", *keys)
    return F.sqrt(-2.0 * F.log(u1)) * F.cos(2.0 * 3.141592653589793 * u2)


def choose(u: Column, options: Sequence[str], weights: Sequence[float]) -> Column:
    """Pick one of ``options`` with probability proportional to ``weights``, given uniform ``u``."""
    total = float(sum(weights))
    expr, cumulative = None, 0.0
    for option, weight in zip(options[:-1], weights[:-1], strict=True):
        cumulative += weight / total
        expr = (
            (F.when(u < cumulative, option)) if expr is None else expr.when(u < cumulative, option)
        )
    return F.lit(options[-1]) if expr is None else expr.otherwise(options[-1])


def _median_lookup(category: Column, table: dict[str, tuple[float, float]]) -> Column:
    expr = None
    for name, (_, median) in table.items():
        expr = (
            F.when(category == name, median)
            if expr is None
            else expr.when(category == name, median)
        )
    return expr


def czk_per_unit(currency: Column, fx_rates: dict[str, float]) -> Column:
    """CZK value of one unit of ``currency`` (null for a currency not in ``fx_rates``)."""
    return F.element_at(F.create_map(*[F.lit(x) for kv in fx_rates.items() for x in kv]), currency)


def mean_debit_czk() -> float:
    """Rough mean purchase amount of an ordinary customer; scales credits so balances hold."""
    share = sum(s for s, _ in PURCHASE_CATEGORIES.values())
    purchases = sum(s * m for s, m in PURCHASE_CATEGORIES.values()) / share
    bills = sum(s * m for s, m in BILL_CATEGORIES.values())
    lognormal_mean = 1.2  # exp(0.6^2 / 2)
    return lognormal_mean * (0.72 * purchases + 0.09 * bills + 0.19 * CASH_MEDIAN)


def with_attributes(rows: DataFrame, seed: int, fx_rates: dict[str, float]) -> DataFrame:
    """Turn (transaction_id, account profile, transaction_date, seq) rows into transactions.

    ``rows`` carries: transaction_id, account_id, branch_id, seq, transaction_date, risk,
    income_factor, account_type, is_burst (bool), burst_offset (int, position inside the burst).
    Returns transactions with ``amount_czk`` (for the running balance) and ``anomaly_type``.
    """
    key = F.col("transaction_id")
    risk = F.col("risk")

    is_credit = (~F.col("is_burst")) & (uniform(seed, "direction", key) < CREDIT_SHARE)
    u_anomaly = uniform(seed, "anomaly", key)
    anomaly = (
        F.when(F.col("is_burst"), "burst")
        .when(is_credit, None)
        .when(u_anomaly < P_SPIKE, "amount_spike")
        .when(u_anomaly < P_SPIKE + P_FOREIGN_HIGH, "foreign_high")
    )

    p_atm = 0.06 + 0.40 * risk
    u_channel = uniform(seed, "channel", key)
    debit_channel = F.when(u_channel < p_atm, "atm").otherwise(
        choose(
            (u_channel - p_atm) / (1 - p_atm), list(DEBIT_CHANNELS), list(DEBIT_CHANNELS.values())
        )
    )
    credit_channel = choose(
        uniform(seed, "credit_channel", key), ["transfer", "branch", "mobile"], [0.75, 0.1, 0.15]
    )
    day_of_month = F.dayofmonth("transaction_date")
    is_salary = (
        (F.col("account_type") != "savings")
        & day_of_month.between(24, 27)
        & (uniform(seed, "salary", key) < 0.7)
    )

    p_gambling = 0.005 + 0.30 * risk
    u_cat = uniform(seed, "category", key)
    purchase_category = F.when(u_cat < p_gambling, "gambling").otherwise(
        choose(
            (u_cat - p_gambling) / (1 - p_gambling),
            list(PURCHASE_CATEGORIES),
            [s for s, _ in PURCHASE_CATEGORIES.values()],
        )
    )
    bill_category = choose(
        uniform(seed, "bill", key), list(BILL_CATEGORIES), [s for s, _ in BILL_CATEGORIES.values()]
    )

    df = rows.withColumn("anomaly_type", anomaly).withColumn("is_credit", is_credit)
    df = df.withColumn(
        "channel",
        F.when(F.col("is_burst"), "online")
        .when(F.col("is_credit"), credit_channel)
        .otherwise(debit_channel),
    )
    df = df.withColumn(
        "merchant_category",
        F.when(F.col("is_burst"), "electronics")
        .when(F.col("is_credit") & is_salary, "salary")
        .when(F.col("is_credit") & (F.col("channel") == "branch"), "cash_deposit")
        .when(F.col("is_credit"), "transfer_in")
        .when(F.col("channel").isin("atm", "branch"), "cash")
        .when(F.col("channel") == "transfer", bill_category)
        .otherwise(purchase_category),
    )

    category = F.col("merchant_category")
    median = (
        F.when(category == "gambling", GAMBLING_MEDIAN)
        .when(category == "cash", CASH_MEDIAN)
        .when(category.isin(list(BILL_CATEGORIES)), _median_lookup(category, BILL_CATEGORIES))
        .otherwise(_median_lookup(category, PURCHASE_CATEGORIES))
    )
    purchase = median * F.col("income_factor") * F.exp(0.6 * normal(seed, "amount", key))
    # Credits cover spending on average; risky customers spend a little more than they earn.
    credit_scale = (
        mean_debit_czk()
        * F.col("income_factor")
        * ((1 - CREDIT_SHARE) / CREDIT_SHARE)
        * (1.05 - 0.08 * risk)
    )
    credit = credit_scale * F.exp(0.35 * normal(seed, "credit_amount", key)) / 1.063
    amount_czk = (
        F.when(F.col("is_credit"), credit)
        .when(category == "cash", F.greatest(F.round(purchase / 100) * 100, F.lit(100.0)))
        .otherwise(purchase)
    )
    spike = 15 + 25 * uniform(seed, "spike", key)
    amount_czk = (
        F.when(F.col("anomaly_type") == "amount_spike", amount_czk * spike)
        .when(F.col("anomaly_type") == "foreign_high", amount_czk * 12 + 20_000)
        .otherwise(amount_czk)
    )
    df = df.withColumn("amount_czk", F.round(amount_czk, 2))

    u_country = uniform(seed, "country", key)
    home_purchase = F.col("is_credit") | F.col("channel").isin("transfer", "branch")
    df = df.withColumn(
        "country",
        F.when(
            F.col("anomaly_type") == "foreign_high",
            choose(uniform(seed, "far", key), FAR_COUNTRIES, [1] * 5),
        )
        .when(F.col("is_burst") | home_purchase | (u_country >= 0.03), "CZ")
        .otherwise(choose(u_country / 0.03, list(FOREIGN), [1] * len(FOREIGN))),
    )
    currency = F.when(F.col("country") == "CZ", "CZK")
    for country, cur in FOREIGN.items():
        currency = currency.when(F.col("country") == country, cur)
    df = df.withColumn("currency", currency.otherwise("USD"))
    rate = czk_per_unit(F.col("currency"), fx_rates)
    # The amount is fixed in the transaction's currency; the account is charged its CZK value.
    df = df.withColumn("amount", F.round(F.col("amount_czk") / rate, 2))
    df = df.withColumn("amount_czk", F.round(F.col("amount") * rate, 2))

    hour = choose(uniform(seed, "hour", key), [str(h) for h in range(24)], HOUR_WEIGHTS).cast("int")
    second_of_day = hour * 3600 + F.floor(uniform(seed, "second", key) * 3600).cast("int")
    burst_second = (
        F.lit(9 * 3600)
        + F.floor(
            uniform(seed, "burst_time", F.col("account_id"), F.col("burst_block")) * 13 * 3600
        )
    ).cast("int") + F.col("burst_offset") * 40
    seconds = F.when(F.col("is_burst"), burst_second).otherwise(second_of_day)
    df = df.withColumn(
        "transaction_ts",
        F.timestamp_seconds(
            F.unix_timestamp(F.col("transaction_date").cast("timestamp")) + seconds
        ),
    )

    counterparty = (
        F.when(
            F.col("merchant_category") == "salary",
            F.concat(
                F.lit("EMPLOYER-"),
                F.pmod(F.xxhash64(F.lit(seed), F.col("account_id")), F.lit(400)).cast("string"),
            ),
        )
        .when(
            F.col("is_credit"),
            F.concat(
                F.lit("CZ-ACC-"),
                F.pmod(F.xxhash64(F.lit(seed), key), F.lit(99_999_999)).cast("string"),
            ),
        )
        .when(
            F.col("channel") == "atm",
            F.concat(
                F.lit("ATM-"),
                F.col("branch_id").cast("string"),
                F.lit("-"),
                F.pmod(F.xxhash64(key), F.lit(4)).cast("string"),
            ),
        )
        .when(
            F.col("channel") == "branch",
            F.concat(F.lit("BRANCH-"), F.col("branch_id").cast("string")),
        )
        .otherwise(
            F.concat(
                F.lit("M-"),
                F.upper(F.col("merchant_category")),
                F.lit("-"),
                F.pmod(F.xxhash64(F.lit(seed), key, F.lit("m")), F.lit(150)).cast("string"),
            )
        )
    )
    df = df.withColumn("counterparty", counterparty)
    df = df.withColumn("direction", F.when(F.col("is_credit"), "credit").otherwise("debit"))
    return df


def with_balances(txns: DataFrame, opening: DataFrame) -> DataFrame:
    """Add ``balance_after``: the opening balance plus the running sum of signed CZK amounts."""
    signed = F.when(F.col("direction") == "credit", F.col("amount_czk")).otherwise(
        -F.col("amount_czk")
    )
    order = Window.partitionBy("account_id").orderBy("transaction_ts", "transaction_id")
    running = F.sum(signed).over(order.rowsBetween(Window.unboundedPreceding, Window.currentRow))
    return txns.join(opening, "account_id").withColumn(
        "balance_after", F.round(F.col("opening_balance") + running, 2)
    )
