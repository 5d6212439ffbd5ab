"""``frontier monitor``: population stability index of each champion's features.

Reference: the champion's training window. Current: the latest rows of the same table, as many
days as the holdout spanned. Numbers are bucketed by the reference deciles, categories by value;
missing values are a bucket of their own. PSI = sum((cur - ref) * ln(cur / ref)) over buckets,
shares floored at 1e-4. Below 0.1: no drift; 0.1-0.25: moderate; above: significant.
"""

from __future__ import annotations

import datetime as dt
import math

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from frontier.ml import registry
from frontier.ml.declarations import Declaration, resolve

FLOOR = 1e-4
DECILES = [i / 10 for i in range(1, 10)]


def level(psi: float) -> str:
    return "none" if psi < 0.1 else "moderate" if psi < 0.25 else "significant"


def psi(reference: dict[str, int], current: dict[str, int]) -> float:
    ref_total, cur_total = sum(reference.values()) or 1, sum(current.values()) or 1
    total = 0.0
    for bucket in set(reference) | set(current):
        r = max(reference.get(bucket, 0) / ref_total, FLOOR)
        c = max(current.get(bucket, 0) / cur_total, FLOOR)
        total += (c - r) * math.log(c / r)
    return total


def _bucket(column: str, edges: list[float] | None) -> Column:
    if edges is None:
        return F.coalesce(F.col(column).cast("string"), F.lit("<null>"))
    value = F.col(column).cast("double")  # booleans and decimals too
    expr = F.lit(str(len(edges)))
    for i, edge in reversed(list(enumerate(edges))):
        expr = F.when(value <= edge, F.lit(str(i))).otherwise(expr)
    return F.when(value.isNull() | F.isnan(value), "<null>").otherwise(expr)


def drift(spark: SparkSession, d: Declaration, champion: dict) -> list[tuple]:
    d = resolve(spark, d)
    time = F.col(d.time_column).cast("date")
    table = spark.table(d.table)
    ref_start, ref_end = champion["training_window_start"], champion["training_window_end"]
    span = (champion["holdout_end"] - champion["holdout_start"]).days
    latest = table.agg(F.max(time)).first()[0]
    cur_start = latest - dt.timedelta(days=span)
    reference = table.where(time.between(ref_start, ref_end))
    current = table.where(time >= F.lit(cur_start))
    both = reference.select(F.lit("ref").alias("side"), *d.features).unionByName(
        current.select(F.lit("cur").alias("side"), *d.features)
    )
    quantiles = {}
    if d.numeric:
        row = reference.agg(
            *[F.percentile_approx(F.col(c).cast("double"), DECILES).alias(c) for c in d.numeric]
        ).first()
        quantiles = {c: sorted(set(row[c] or [])) for c in d.numeric}
    # Every feature's histogram, both sides, in one aggregation: (side, feature, bucket) -> count.
    buckets = F.explode(
        F.array(
            *[
                F.struct(F.lit(f).alias("feature"), _bucket(f, quantiles.get(f)).alias("bucket"))
                for f in d.features
            ]
        )
    ).alias("fb")
    hist = both.select("side", buckets).groupBy("side", "fb.feature", "fb.bucket").count()
    sides: dict[str, dict[str, dict[str, int]]] = {f: {"ref": {}, "cur": {}} for f in d.features}
    for r in hist.collect():
        sides[r.feature][r.side][r.bucket] = r["count"]
    out = []
    computed_at = registry.now()
    for feature in d.features:
        counts = {side: sum(v.values()) for side, v in sides[feature].items()}
        value = psi(sides[feature]["ref"], sides[feature]["cur"])
        out.append(
            (d.name, champion["version"], feature, value, level(value), ref_start, ref_end,
             cur_start, latest, counts["ref"], counts["cur"], computed_at)
        )  # fmt: skip
    return out


def monitor(spark: SparkSession, declarations: list[Declaration]) -> list[tuple]:
    registry.ensure_tables(spark)
    rows = []
    for d in declarations:
        champion = registry.champion(spark, d.name)
        if champion is None:
            print(f"[monitor] {d.name}: no champion yet; run `frontier train {d.name}`")
            continue
        if d.time_column is None or champion["holdout_start"] == champion["training_window_start"]:
            print(f"[monitor] {d.name}: drift compares periods; its holdout is not one")
            continue
        rows += drift(spark, d, champion)
    registry.append(spark, registry.DRIFT, rows)
    return rows
