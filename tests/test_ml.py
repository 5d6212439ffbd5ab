"""Declared models: train on any labelled table, register, compile, score from SQL and dbt.

Runs on the suite's small generated bank (``built``) plus a small labelled table made here.
"""

from __future__ import annotations

import dataclasses

import pytest
from pyspark.sql import functions as F

from frontier import dbt
from frontier.ml import declarations, forecast, monitor, registry
from frontier.ml.declarations import DeclarationError
from frontier.ml.train import train

CREDIT = """
name: test_credit
table: features.test_credit
key: applicant_id
label: is_bad
time_column: applied_date
holdout: {fraction: 0.25}
algorithms:
  random_forest: {numTrees: 10, maxDepth: 4}
  gbt: {maxIter: 10, maxDepth: 3}
"""
SMALL = {"random_forest": {"numTrees": 8, "maxDepth": 4}, "gbt": {"maxIter": 8, "maxDepth": 3}}


@pytest.fixture(scope="module")
def credit_table(spark, built):
    """A labelled table the project has never seen: numbers, a category, NULLs, a date."""
    housing = F.array(*map(F.lit, ["rent", "own", "mortgage"]))
    rows = spark.range(2000).select(
        F.col("id").alias("applicant_id"),
        F.date_add(F.lit("2024-01-01").cast("date"), (F.col("id") % 300).cast("int")).alias(
            "applied_date"
        ),
        F.round(F.rand(1) * 100, 1).alias("utilisation"),
        F.when(F.col("id") % 17 != 0, F.round(F.rand(2) * 50000)).alias("income"),
        F.element_at(housing, (F.col("id") % 3 + 1).cast("int")).alias("housing"),
    )
    risk = F.col("utilisation") / 100 + F.when(F.col("housing") == "rent", 0.3).otherwise(0)
    rows = rows.withColumn("is_bad", (risk + F.rand(3) * 0.5 > 0.9).cast("int"))
    rows.write.mode("overwrite").saveAsTable("features.test_credit")
    return "features.test_credit"


def _registry(spark, name):
    return spark.table(registry.REGISTRY).where(F.col("model_name") == name)


def test_any_labelled_table_trains_registers_and_scores_in_sql(spark, credit_table):
    declaration = declarations.parse(CREDIT)
    result = train(spark, declaration)
    assert result.declaration.numeric == ("utilisation", "income")  # inferred from the table
    assert result.declaration.categorical == ("housing",)

    rows = {r.version: r for r in _registry(spark, "test_credit").collect()}
    assert sorted(rows) == [1, 2]
    assert sorted(r.status for r in rows.values()) == ["challenger", "champion"]
    champion = next(r for r in rows.values() if r.status == "champion")
    assert champion.features == ["utilisation", "income", "housing"]
    assert champion.train_rows + champion.holdout_rows == 2000
    assert champion.training_window_end < champion.holdout_start

    metrics = {
        r.metric: r.value
        for r in spark.table(registry.METRICS)
        .where(f"model_name = 'test_credit' and version = {champion.version}")
        .collect()
        if r.decile is None
    }
    assert {"auc_roc", "auc_pr", "log_loss", "accuracy", "precision", "recall"} <= set(metrics)
    assert metrics["auc_roc"] > 0.7  # the label truly depends on the features
    deciles = spark.table(registry.METRICS).where(
        f"model_name = 'test_credit' and metric = 'calibration_observed_rate' "
        f"and version = {champion.version}"
    )
    assert deciles.count() == 10
    importance = spark.table(registry.IMPORTANCE).where("model_name = 'test_credit'")
    assert importance.where("rank = 1").count() == 2  # one top feature per candidate

    scored = (
        spark.sql(
            "select ml.predict_test_credit(utilisation, income, housing) as p, "
            f"ml.predict_test_credit_v{champion.version}(utilisation, income, housing) as pv "
            "from features.test_credit"
        )
        .agg(F.min("p"), F.max("p"), F.max(F.abs(F.col("p") - F.col("pv"))))
        .first()
    )
    assert 0 <= scored[0] < scored[1] <= 1
    assert scored[2] == 0  # the unversioned name is the champion

    # NULL arguments return a number (the missing-value branch), not an error.
    nulls = spark.sql("select ml.predict_test_credit(null, null, null) as p").first().p
    assert 0 <= nulls <= 1
    explained = spark.sql("select ml.explain_test_credit(99.0, 1000.0, 'rent') as e").first().e
    assert 1 <= len(explained) <= 3
    assert {item.feature for item in explained} <= {"utilisation", "income", "housing"}

    # Retraining adds versions 3 and 4 and retires the earlier ones.
    train(spark, dataclasses.replace(declaration, algorithms=SMALL))
    statuses = {r.version: r.status for r in _registry(spark, "test_credit").collect()}
    assert statuses[1] == statuses[2] == "retired"
    assert sorted([statuses[3], statuses[4]]) == ["challenger", "champion"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"table": "features.no_such_table"}, "table features.no_such_table does not exist"),
        ({"label": "no_such_column"}, "has no column(s) no_such_column"),
        ({"label": "one_class"}, "single class"),
        ({"holdout_fraction": None, "holdout_start": "2031-01-01"}, "no rows in the holdout"),
    ],
)
def test_bad_declarations_fail_clearly_and_register_nothing(spark, credit_table, change, message):
    spark.table(credit_table).withColumn("one_class", F.lit(0)).write.mode("overwrite").saveAsTable(
        "features.test_credit_one_class"
    )
    declaration = dataclasses.replace(
        declarations.parse(CREDIT.replace("test_credit", "test_broken")),
        table="features.test_credit_one_class",
        exclude=("one_class",),
    )
    declaration = dataclasses.replace(declaration, **change)
    with pytest.raises(DeclarationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        train(spark, declaration)
    assert _registry(spark, "test_broken").count() == 0
    functions = {f.name for f in spark.catalog.listFunctions("ml")}
    assert not any("test_broken" in name for name in functions)


def test_malformed_declaration_names_the_problem():
    with pytest.raises(DeclarationError, match="missing required key"):
        declarations.parse("name: x\ntable: t\n")
    with pytest.raises(DeclarationError, match="unknown key"):
        declarations.parse(CREDIT + "colour: blue\n")


def test_volume_forecast_is_written_with_intervals_and_mase(spark, built):
    declaration = dataclasses.replace(
        declarations.load("txn_volume_count"), algorithms={"gbt": {"maxIter": 10, "maxDepth": 4}}
    )
    result = train(spark, declaration)
    written = forecast.write(spark, result)
    table = spark.table("marts.forecast_daily_volume").where("measure = 'transaction_count'")
    assert table.count() == written > 0
    future = table.where("is_future")
    assert future.select("forecast_date").distinct().count() == 14
    assert future.where("actual is not null").count() == 0
    assert table.where("lower > predicted or upper < predicted").count() == 0
    metrics = {m: v for m, d, v in result.champion.metrics if d is None}
    assert metrics["mase"] > 0 and metrics["mae_seasonal_naive"] > 0


def test_loan_scores_mart_calls_the_predict_function(spark, built):
    declaration = dataclasses.replace(
        declarations.load("loan_default"), algorithms=SMALL, holdout_fraction=0.4, cv_folds=None
    )
    train(spark, declaration)
    dbt.build(select="fct_loan_default_scores")
    scores = spark.table("marts.fct_loan_default_scores")
    open_loans = spark.table("marts.fct_loans").where("not is_finished").count()
    assert scores.count() == open_loans > 0
    row = scores.orderBy(F.desc("default_probability")).first()
    assert 0 <= row.default_probability <= 1
    assert len(row.top_reasons) >= 1

    drift = monitor.monitor(spark, [declaration])
    features = {r[2] for r in drift}
    assert features == set(declaration.features)
    assert all(r[3] >= 0 for r in drift)
