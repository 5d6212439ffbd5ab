"""``frontier eda [TABLE]``: an exploratory report as one self-contained HTML file.

Every statistic is a Spark aggregation; only aggregates reach the driver, never rows, so the
report costs the same driver memory on 1M and on 10M transactions:

- a profile per column: type, null rate, approximate distinct count, min/max, approximate
  quantiles and a histogram (numeric: equal-width buckets counted in Spark; text: top values);
- correlations between the numeric columns (one aggregation of ``corr`` for every pair);
- for a table of transactions (a date or timestamp, an amount, optional channel and merchant
  category): daily volume over time, the weekly and monthly shape, amount quantiles by channel and
  by merchant category;
- the top anomalies: the highest scored live alerts, or failing those the transactions furthest
  from their account's profile (``features.feat_transaction_anomaly``).

The plots (matplotlib) are embedded as PNG, so the file opens anywhere without a server.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure
from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DateType, NumericType, StringType, TimestampType

from frontier import config
from frontier.timing import timed

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
BUCKETS = 30
TOP_VALUES = 10
MAX_CATEGORIES = 1000  # text columns with more distinct values (ids, names) get no top-values plot
QUANTILE_ACCURACY = 1000  # percentile_approx: relative error about 1/1000
MAX_CORRELATED = 12  # numeric columns in the correlation matrix
DAY_KEY = "__day"  # the daily volume's key among the histograms' (not a column name)


@dataclass
class Column:
    name: str
    type: str
    nulls: int = 0
    distinct: int = 0
    minimum: object = None
    maximum: object = None
    quantiles: list[float] = field(default_factory=list)
    histogram: pd.DataFrame | None = None  # bucket label, count


@dataclass
class Report:
    table: str
    rows: int
    columns: list[Column]
    correlations: pd.DataFrame | None = None
    daily: pd.DataFrame | None = None
    by_channel: pd.DataFrame | None = None
    by_category: pd.DataFrame | None = None
    anomalies: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def _numeric(df: DataFrame) -> list[str]:
    return [
        f.name
        for f in df.schema.fields
        if isinstance(f.dataType, NumericType) and not f.name.endswith("_id")
    ]


def _first(df: DataFrame, candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in df.columns), None)


def _day_and_amount(df: DataFrame) -> tuple[SparkColumn | None, str | None]:
    """The transaction day (a date column, else the first timestamp's date) and amount column."""
    day = _first(df, ("transaction_date", "event_date", "volume_date"))
    if day is not None:
        day_col = F.col(day).cast("date")
    else:
        at = next((f.name for f in df.schema.fields if isinstance(f.dataType, TimestampType)), None)
        day_col = F.to_date(at) if at else None
    return day_col, _first(df, ("amount_czk", "amount"))


def _summary(df: DataFrame, fields: list, numeric: list[str], pairs: list) -> dict:
    """Pass 1, one aggregation: rows; per column nulls, distinct, min/max, quantiles; corr."""
    aggs = [F.count(F.lit(1)).alias("__rows")]
    for f in fields:
        c = F.col(f"`{f.name}`")
        aggs += [
            F.count(F.when(c.isNull(), 1)).alias(f"{f.name}__nulls"),
            F.approx_count_distinct(c).alias(f"{f.name}__distinct"),
        ]
        if isinstance(f.dataType, (NumericType, DateType, TimestampType, StringType)):
            aggs += [F.min(c).alias(f"{f.name}__min"), F.max(c).alias(f"{f.name}__max")]
        if f.name in numeric:
            quantiles = F.percentile_approx(c.cast("double"), list(QUANTILES), QUANTILE_ACCURACY)
            aggs.append(quantiles.alias(f"{f.name}__q"))
    for i, (a, b) in enumerate(pairs):
        aggs.append(F.corr(F.col(a).cast("double"), F.col(b).cast("double")).alias(f"__corr{i}"))
    return df.agg(*aggs).first().asDict()


def _exploded(df: DataFrame, keys: dict[str, SparkColumn], amount: str | None) -> DataFrame:
    """Each row once per key, as (key, value as text, amount as double): one group-by over this
    counts every key in a single pass over the table."""
    pairs = [
        F.struct(F.lit(k).alias("key"), v.cast("string").alias("value")) for k, v in keys.items()
    ]
    value = F.col(amount).cast("double") if amount else F.lit(None).cast("double")
    return df.select(F.explode(F.array(*pairs)).alias("e"), value.alias("a")).select("e.*", "a")


def _counted(df: DataFrame, keys: dict[str, SparkColumn], amount: str | None) -> pd.DataFrame:
    """Rows and total amount per (key, value)."""
    grouped = _exploded(df, keys, amount).groupBy("key", "value")
    return grouped.agg(F.count("*").alias("count"), F.sum("a").alias("amount")).toPandas()


def build_report(spark: SparkSession, table: str) -> Report:
    """The report's figures in three passes over the table, whatever its width.

    1. one aggregation: row count, every column's profile, every numeric pair's correlation;
    2. one exploded group-by: every histogram (numeric: equal-width buckets between the min and
       max of pass 1; text with at most ``MAX_CATEGORIES`` values: their counts) and the daily
       transactions and amount;
    3. one exploded group-by: amount quantiles by channel and by merchant category.
    """
    df = spark.table(table)
    fields = [f for f in df.schema.fields if not f.dataType.typeName().startswith(("array", "map"))]
    numeric = _numeric(df)
    correlated = numeric[:MAX_CORRELATED]
    pairs = [(a, b) for i, a in enumerate(correlated) for b in correlated[i + 1 :]]
    summary, _ = timed(
        "eda", "profile and correlations", lambda: _summary(df, fields, numeric, pairs)
    )
    columns = [
        Column(
            f.name,
            f.dataType.simpleString(),
            summary[f"{f.name}__nulls"],
            summary[f"{f.name}__distinct"],
            summary.get(f"{f.name}__min"),
            summary.get(f"{f.name}__max"),
            summary.get(f"{f.name}__q") or [],
        )
        for f in fields
    ]
    report = Report(table, summary["__rows"], columns)
    if len(pairs):
        matrix = pd.DataFrame(1.0, index=correlated, columns=correlated)
        for i, (a, b) in enumerate(pairs):
            v = summary[f"__corr{i}"]
            matrix.loc[a, b] = matrix.loc[b, a] = v if v is not None else float("nan")
        report.correlations = matrix

    keys: dict[str, SparkColumn] = {}
    widths: dict[str, tuple[float, float]] = {}
    for col, f in zip(columns, fields, strict=True):
        c = F.col(f"`{col.name}`")
        if col.name in numeric and col.minimum is not None:
            lo = float(col.minimum)
            width = (float(col.maximum) - lo) / BUCKETS or 1.0
            widths[col.name] = (lo, width)
            keys[col.name] = F.least(F.floor((c - lo) / width), F.lit(BUCKETS - 1))
        elif isinstance(f.dataType, (StringType, BooleanType)) and col.distinct <= MAX_CATEGORIES:
            keys[col.name] = c
    day_col, amount = _day_and_amount(df)
    if day_col is not None and amount is not None:
        keys[DAY_KEY] = day_col
    else:
        report.notes.append("no date and amount columns: no volume or amount views")
    if keys:
        counts, _ = timed("eda", "histograms and daily volume", lambda: _counted(df, keys, amount))
        for col in columns:
            found = counts[counts["key"] == col.name]
            if col.name in widths:
                lo, width = widths[col.name]
                found = found.dropna(subset=["value"])
                b = found["value"].astype(float).astype(int)
                col.histogram = pd.DataFrame({"bucket": lo + b * width, "count": found["count"]})
                col.histogram = col.histogram.sort_values("bucket").reset_index(drop=True)
            elif col.name in keys:
                top = found.sort_values("count", ascending=False).head(TOP_VALUES)
                col.histogram = top[["value", "count"]].rename(columns={"value": "bucket"})
        if DAY_KEY in keys:
            daily = counts[counts["key"] == DAY_KEY].sort_values("value")
            report.daily = pd.DataFrame({
                "day": daily["value"], "transactions": daily["count"], "amount": daily["amount"],
            }).reset_index(drop=True)  # fmt: skip

    grouped = [k for k in ("channel", "merchant_category") if k in df.columns]
    if amount is not None and grouped:
        timed(
            "eda",
            "amounts by channel and category",
            lambda: _amounts_by(df, grouped, amount, report),
        )
    report.anomalies = top_anomalies(spark)
    return report


def _amounts_by(df: DataFrame, grouped: list[str], amount: str, report: Report) -> None:
    """Amount quantiles per channel and per merchant category."""
    q = F.percentile_approx("a", list(QUANTILES), 500)
    frame = (
        _exploded(df, {k: F.col(k) for k in grouped}, amount)
        .groupBy("key", "value")
        .agg(F.count("*").alias("transactions"), q.alias("q"))
        .toPandas()
    )
    for key, attribute in (("channel", "by_channel"), ("merchant_category", "by_category")):
        if key in grouped:
            part = frame[frame["key"] == key].rename(columns={"value": key})
            setattr(report, attribute, part[[key, "transactions", "q"]].sort_values("transactions"))


def top_anomalies(spark: SparkSession, n: int = 20) -> pd.DataFrame | None:
    if spark.catalog.tableExists("marts.transaction_alerts"):
        alerts = spark.table("marts.transaction_alerts")
        if alerts.limit(1).count():
            return (
                alerts.orderBy(F.desc("anomaly_score"))
                .select(
                    "transaction_id",
                    "event_at",
                    "amount_czk",
                    "channel",
                    "country_code",
                    F.round("anomaly_score", 3).alias("score"),
                    "reasons",
                )  # fmt: skip
                .limit(n)
                .toPandas()
            )
    if spark.catalog.tableExists("features.feat_transaction_anomaly"):
        return (
            spark.table("features.feat_transaction_anomaly")
            .orderBy(F.desc_nulls_last("amount_zscore"))
            .select(
                "transaction_id",
                "transaction_at",
                "amount_czk",
                "channel",
                F.round("amount_zscore", 1).alias("amount_zscore"),
                "txn_count_prev_10_min",
                "is_anomaly",
            )  # fmt: skip
            .limit(n)
            .toPandas()
        )
    return None


# -- rendering: aggregates in, HTML out --------------------------------------------------------


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return f'<img src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def _column_html(col: Column, rows: int) -> str:
    quantiles = ", ".join(f"{int(q * 100)}%: {_fmt(v)}" for q, v in zip(QUANTILES, col.quantiles,
                                                                         strict=False))  # fmt: skip
    cells = [col.name, col.type, f"{col.nulls / rows:.1%}" if rows else "", f"{col.distinct:,}",
             _fmt(col.minimum), _fmt(col.maximum), quantiles]  # fmt: skip
    plot = ""
    if col.histogram is not None and len(col.histogram):
        fig = Figure(figsize=(3.2, 1.4))
        ax = fig.subplots()
        if pd.api.types.is_numeric_dtype(col.histogram["bucket"]):
            ax.bar(col.histogram["bucket"], col.histogram["count"], width=(
                (col.histogram["bucket"].max() - col.histogram["bucket"].min()) / BUCKETS or 1.0
            ), align="edge")  # fmt: skip
        else:
            ax.barh(col.histogram["bucket"].astype(str), col.histogram["count"])
            ax.tick_params(labelsize=6)
        ax.tick_params(labelsize=6)
        plot = _png(fig)
    return (
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + f"<td>{plot}</td></tr>"
    )


def _time_html(daily: pd.DataFrame) -> str:
    daily = daily.copy()
    daily["day"] = pd.to_datetime(daily["day"])
    fig = Figure(figsize=(13, 3))
    axes = fig.subplots(1, 3)
    axes[0].plot(daily["day"], daily["transactions"], linewidth=0.7)
    axes[0].set_title("transactions per day")
    weekday = daily.groupby(daily["day"].dt.dayofweek)["transactions"].mean()
    axes[1].bar(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][: len(weekday)], weekday.values)
    axes[1].set_title("mean per weekday")
    monthday = daily.groupby(daily["day"].dt.day)["transactions"].mean()
    axes[2].bar(monthday.index, monthday.values)
    axes[2].set_title("mean per day of month")
    return _png(fig)


def _quantiles_html(frame: pd.DataFrame, key: str) -> str:
    fig = Figure(figsize=(8, 0.35 * len(frame) + 1))
    ax = fig.subplots()
    for i, (_, row) in enumerate(frame.iterrows()):
        q = row["q"]
        ax.plot([q[0], q[4]], [i, i], color="grey")
        ax.plot([q[1], q[3]], [i, i], linewidth=6, color="tab:blue")
        ax.plot([q[2]], [i], "|", color="black", markersize=12)
    ax.set_yticks(range(len(frame)), frame[key])
    ax.set_xscale("log")
    ax.set_title(f"amount by {key} (5-25-50-75-95 % quantiles, log scale)")
    return _png(fig)


def _corr_html(matrix: pd.DataFrame) -> str:
    fig = Figure(figsize=(0.6 * len(matrix) + 2, 0.6 * len(matrix) + 1))
    ax = fig.subplots()
    image = ax.imshow(matrix.values, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(matrix)), matrix.columns, rotation=90, fontsize=7)
    ax.set_yticks(range(len(matrix)), matrix.index, fontsize=7)
    fig.colorbar(image)
    return _png(fig)


def render(report: Report) -> str:
    parts = [
        f"<h1>EDA: {html.escape(report.table)}</h1>",
        f"<p>{report.rows:,} rows, {len(report.columns)} columns; generated "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by <code>frontier eda</code>. Every "
        "figure is a Spark aggregate (quantiles and distinct counts approximate).</p>",
    ]
    parts += [f"<p><em>{html.escape(n)}</em></p>" for n in report.notes]
    titles = ("column", "type", "null", "distinct", "min", "max", "quantiles", "histogram")
    header = "".join(f"<th>{h}</th>" for h in titles)
    rows = "".join(_column_html(c, report.rows) for c in report.columns)
    parts.append(f"<h2>Columns</h2><table><tr>{header}</tr>{rows}</table>")
    if report.correlations is not None:
        parts.append("<h2>Correlations (numeric columns)</h2>" + _corr_html(report.correlations))
    if report.daily is not None and len(report.daily):
        parts.append("<h2>Volume over time and seasonality</h2>" + _time_html(report.daily))
    if report.by_channel is not None:
        parts.append("<h2>Amounts by channel</h2>" + _quantiles_html(report.by_channel, "channel"))
    if report.by_category is not None:
        parts.append(
            "<h2>Amounts by merchant category</h2>"
            + _quantiles_html(report.by_category, "merchant_category")
        )
    if report.anomalies is not None and len(report.anomalies):
        parts.append("<h2>Top anomalies</h2>" + report.anomalies.to_html(index=False, border=0))
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border-bottom:1px solid #ddd;padding:2px 8px;font-size:12px;text-align:left}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>EDA {report.table}</title>"
        f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"
    )


def write(spark: SparkSession, table: str) -> str:
    """Compute the report for ``table`` and write it; returns the file's path."""
    if not spark.catalog.tableExists(table):
        raise ValueError(f"no table {table}: `frontier summary` lists the warehouse's tables")
    report = build_report(spark, table)
    folder = config.paths().reports
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"eda-{table.replace('.', '-')}.html"
    path.write_text(render(report))
    return str(path)
