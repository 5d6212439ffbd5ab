"""Compiled SQL functions score exactly like MLlib's ``model.transform``.

Random forest and GBT, classifier and regressor, with a categorical feature, NULLs, and rows that
sit exactly on split thresholds. The functions are persistent (stored in the metastore).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from frontier.ml import pipeline
from udfs import compiler, forest, functions

NUMERIC = ["x0", "x1", "x2", "x3"]
CATEGORICAL = ["grade"]
ROWS = 3000
CASES = [
    ("random_forest", True, {"numTrees": 12, "maxDepth": 5}),
    ("gbt", True, {"maxIter": 12, "maxDepth": 4}),
    ("random_forest", False, {"numTrees": 12, "maxDepth": 5}),
    ("gbt", False, {"maxIter": 12, "maxDepth": 4}),
]


def _training_frame(spark: SparkSession) -> DataFrame:
    rand = [F.round(F.rand(seed) * 10, 2) for seed in range(4)]
    frame = spark.range(ROWS).select(
        "id",
        *[r.alias(name) for r, name in zip(rand, NUMERIC, strict=True)],
        F.element_at(F.array(*map(F.lit, "ABCD")), (F.col("id") % 4 + 1).cast("int")).alias(
            "grade"
        ),
    )
    grade_d = F.when(F.col("grade") == "D", 3).otherwise(0)
    noisy = F.col("x0") + F.col("x1") * F.col("x2") / 10 + grade_d + F.rand(7) * 3
    frame = frame.withColumn("target", noisy).withColumn("label", (noisy > 9).cast("double"))
    # Some training values are missing too: they train (and score) on the right branch.
    return frame.withColumn("x3", F.when(F.col("id") % 20 != 0, F.col("x3")))


def _scoring_frame(spark: SparkSession, train: DataFrame, model: forest.Forest) -> DataFrame:
    """Training rows, NULL rows, unseen categories, and one row per split threshold."""
    thresholds = sorted(
        {(n.feature, n.threshold) for t in model.trees for n in t.nodes.values()
         if not n.is_leaf and n.left_categories is None}
    )  # fmt: skip
    base = train.select("id", *NUMERIC, *CATEGORICAL)
    on_split = [
        (10_000 + i, *[t if f == j else 5.0 for j in range(len(NUMERIC))], "B")
        for i, (f, t) in enumerate(thresholds)
    ]
    special = [
        (20_000, None, 1.0, 2.0, 3.0, "A"),
        (20_001, 4.0, None, None, 3.0, None),
        (20_002, None, None, None, None, None),
        (20_003, 7.0, 7.0, 7.0, 7.0, "Z"),  # a category the indexer never saw
        (20_004, float("nan"), 1.0, 9.5, 3.0, "C"),
    ]
    schema = base.schema
    return base.unionByName(spark.createDataFrame(on_split + special, schema))


@pytest.mark.parametrize(("algorithm", "is_classifier", "params"), CASES)
def test_sql_function_equals_mllib(spark, tmp_path, algorithm, is_classifier, params):
    train = _training_frame(spark).cache()
    label = "label" if is_classifier else "target"
    fitted = pipeline.build(NUMERIC, CATEGORICAL, label, algorithm, is_classifier, params).fit(
        train
    )
    path = tmp_path / "model"
    fitted.write().overwrite().save(str(path))
    model = forest.load(pipeline.estimator_path(path))
    assert len(model.trees) == 12
    splits = [n for t in model.trees for n in t.nodes.values() if not n.is_leaf]
    assert any(n.left_categories is not None for n in splits), "no categorical split to check"

    arguments = pipeline.arguments(fitted)
    assert [a.name for a in arguments] == NUMERIC + CATEGORICAL
    name = f"ml.test_{algorithm}_{'clf' if is_classifier else 'reg'}"
    functions.install(
        spark,
        [compiler.create_function(
            name, arguments, "DOUBLE", compiler.predict_sql(model, arguments), "exactness test"
        )],
    )  # fmt: skip

    scoring = _scoring_frame(spark, train, model)
    output = "probability" if is_classifier else "prediction"
    expected = fitted.transform(scoring).select(
        "id",
        (vector_to_array(output)[1] if is_classifier else F.col(output)).alias("expected"),
    )
    args = ", ".join(a.name for a in arguments)
    actual = scoring.selectExpr("id", f"{name}({args}) as actual")
    joined = expected.join(actual, "id")
    stats = joined.agg(
        F.count("*").alias("n"),
        F.max(F.abs(F.col("actual") - F.col("expected"))).alias("max_diff"),
        F.sum(F.col("actual").isNull().cast("int")).alias("nulls"),
    ).first()
    assert stats.n == scoring.count() > ROWS
    assert stats.nulls == 0
    assert stats.max_diff <= 1e-9, stats

    # The vectorised scorer the stream uses agrees on every row, NULL, NaN and unseen included.
    every = joined.join(scoring, "id").toPandas()
    many = model.predict_many(pipeline.vectors(arguments, every))
    assert len(many) == stats.n
    assert np.abs(many - every["expected"].to_numpy()).max() <= 1e-9

    # So does the plain-Python reference scorer, one row at a time.
    index = {a.name: a for a in arguments}
    sample = joined.join(scoring, "id").where("id >= 20000 or id % 500 = 0").collect()
    for row in sample:
        vector = [
            row[c] if index[c].labels is None else _category_index(index[c].labels, row[c])
            for c in NUMERIC + CATEGORICAL
        ]
        assert math.isclose(model.predict(vector), row.expected, rel_tol=0, abs_tol=1e-9)


def _category_index(labels: tuple[str, ...], value: str | None) -> float:
    return float(labels.index(value)) if value in labels else float(len(labels))


def test_explain_contributions_add_up_to_the_prediction(spark, tmp_path):
    train = _training_frame(spark)
    fitted = pipeline.build(NUMERIC, CATEGORICAL, "label", "gbt", True, CASES[1][2]).fit(train)
    fitted.write().overwrite().save(str(tmp_path / "model"))
    model = forest.load(pipeline.estimator_path(tmp_path / "model"))
    arguments = pipeline.arguments(fitted)
    row = [2.0, 8.5, 9.0, 1.0, 3.0]
    per_feature = model.contributions(row)
    assert math.isclose(model.bias + sum(per_feature), model.raw(row), abs_tol=1e-12)

    expected = sorted(range(len(per_feature)), key=lambda f: -abs(per_feature[f]))[:3]
    spark.sql(
        compiler.create_function(
            "ml.test_explain", arguments, compiler.EXPLAIN_TYPE,
            compiler.explain_sql(model, arguments), "explain test",
        )
    )  # fmt: skip
    explained = spark.sql("select ml.test_explain(2.0, 8.5, 9.0, 1.0, 'D') as e").first().e
    assert [item.feature for item in explained] == [arguments[f].name for f in expected]
    for item, f in zip(explained, expected, strict=True):
        assert math.isclose(item.contribution, per_feature[f], rel_tol=1e-4, abs_tol=1e-6)


@pytest.mark.parametrize("case", [CASES[0], CASES[1]], ids=["random_forest", "gbt"])
def test_contributions_of_many_rows_equal_one_row_at_a_time(spark, tmp_path, case):
    algorithm, is_classifier, params = case
    train = _training_frame(spark)
    fitted = pipeline.build(NUMERIC, CATEGORICAL, "label", algorithm, is_classifier, params)
    fitted = fitted.fit(train)
    fitted.write().overwrite().save(str(tmp_path / "model"))
    model = forest.load(pipeline.estimator_path(tmp_path / "model"))
    nodes = [n for t in model.trees for n in t.nodes.values()]
    assert any(n.left_categories for n in nodes)  # the categorical walk is exercised
    rng = np.random.default_rng(3)
    rows = np.column_stack([rng.uniform(0, 10, (500, 4)), rng.integers(0, 5, 500)])  # 4: unseen
    rows[rng.random(rows.shape) < 0.05] = np.nan  # missing values, categories included
    splits = [(n.feature, n.threshold) for n in nodes if n.feature >= 0 and not n.left_categories]
    for i, (f, threshold) in enumerate(splits[:100]):
        rows[i, f] = threshold  # exactly on a split: goes left
    one_at_a_time = [model.contributions([None if np.isnan(v) else v for v in r]) for r in rows]
    assert np.allclose(model.contributions_many(rows), one_at_a_time, rtol=0, atol=1e-12)
