"""`frontier load csv` and the declaration path on a table the project has never seen.

A small CSV with awkward headers, a text category and malformed lines is loaded, a model is
declared on it in YAML (no time column: a random holdout; then k-fold cross-validation), trained,
and called from SQL with the category as text.
"""

from __future__ import annotations

import random

import pytest

from frontier.ml import declarations
from frontier.ml.train import train
from frontier.sources import csv_file
from frontier.sources.csv_file import LoadError

ROWS = 400
DECLARATION = """
name: csv_default
table: raw.csv_clients
key: client_id
label: defaulted
holdout: {fraction: 0.3, seed: 5}
algorithms:
  random_forest: {numTrees: 10, maxDepth: 4}
  gbt: {maxIter: 10, maxDepth: 3}
"""


@pytest.fixture(scope="module")
def loaded(spark, tmp_path_factory):
    """The file's lines and what `load` did with them."""
    rng = random.Random(3)
    lines = ['"Client ID","Home Region","Monthly.Spend","Late Payments (6m)","Defaulted?"']
    for i in range(ROWS):
        region = rng.choice(["north", "south", "east"])
        late = rng.randint(0, 6)
        spend = round(rng.uniform(100, 5000), 2)
        risky = late >= 4 or (region == "east" and late >= 2)
        defaulted = int(risky if rng.random() > 0.05 else not risky)
        lines.append(f"{i},{region},{spend},{late},{defaulted}")
    bad = ["9001,north,12.5", "9002,south,12.5,1,0,extra"]
    path = tmp_path_factory.mktemp("csv") / "clients.csv"
    path.write_text("\n".join(lines[:100] + bad + lines[100:]) + "\n")
    return bad, csv_file.load(spark, path, "raw.csv_clients")


def test_load_names_types_and_quarantines(spark, loaded):
    bad, result = loaded
    assert result.table == "raw.csv_clients"
    assert result.rows == ROWS and result.quarantined == len(bad)
    types = {name: kind for _, name, kind in result.columns}
    assert types == {
        "client_id": "int",
        "home_region": "string",
        "monthly_spend": "double",
        "late_payments_6m": "int",
        "defaulted": "int",
    }
    assert spark.table("raw.csv_clients").count() == ROWS
    quarantined = spark.sql(
        "select raw_record, reason from raw.load_quarantine where table_name = 'raw.csv_clients'"
    ).collect()
    assert sorted(r.raw_record for r in quarantined) == sorted(bad)
    assert all("5 columns" in r.reason for r in quarantined)


def test_load_refuses_bad_input_clearly(spark, tmp_path):
    with pytest.raises(LoadError, match="does not exist"):
        csv_file.load(spark, tmp_path / "missing.csv", "raw.x")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(LoadError, match="is empty"):
        csv_file.load(spark, empty, "raw.x")
    with pytest.raises(LoadError, match="not a name"):
        csv_file.load(spark, empty, "raw.My Table")
    spark.sql("create table if not exists raw.not_loaded (a int) using parquet")
    some = tmp_path / "some.csv"
    some.write_text("a\n1\n")
    with pytest.raises(LoadError, match="not loaded by"):
        csv_file.load(spark, some, "raw.not_loaded")


def test_column_names_are_snake_case_and_unique():
    header = ["ID", "default.payment.next.month", "2nd Score", "a b", "a-b", ""]
    assert csv_file.column_names(header) == [
        "id", "default_payment_next_month", "c_2nd_score", "a_b", "a_b_2", "column_6",
    ]  # fmt: skip


def test_declared_model_on_loaded_csv_scores_from_sql(spark, loaded):
    d = declarations.parse(DECLARATION)
    result = train(spark, d)
    assert result.split.holdout_rows + result.split.train_rows == ROWS
    assert result.declaration.categorical == ("home_region",)  # text became a category
    assert result.champion.metric("auc_roc") > 0.8
    row = spark.sql(
        "select min(p) as lo, max(p) as hi, count(*) as n from ("
        " select ml.predict_csv_default(monthly_spend, late_payments_6m, home_region) as p"
        " from raw.csv_clients)"
    ).first()
    assert row.n == ROWS and 0 <= row.lo < 0.5 < row.hi <= 1


def test_cross_validation_scores_every_row_once(spark, loaded):
    text = DECLARATION.replace("csv_default", "csv_default_cv") + "cross_validation: {folds: 3}\n"
    result = train(spark, declarations.parse(text))
    assert result.split.folds == 3
    metrics = spark.sql(
        "select dataset, value from ml.model_metrics "
        "where model_name = 'csv_default_cv' and metric = 'rows'"
    ).collect()
    assert {r.dataset for r in metrics} == {"cross_validation"}
    assert all(r.value == ROWS for r in metrics)  # each row scored by the fold that left it out
    assert result.champion.metric("auc_roc") > 0.8
