"""The dbt project built on the small generated bank: layers, counts, balances, incrementals."""

from __future__ import annotations

import datetime as dt
import json
import re

from pyspark.sql import functions as F

from frontier import cli, dbt, raw
from frontier.config import LAYERS, project_root
from frontier.generator import LABEL_SOURCE


def test_each_layer_is_its_own_database(spark, built):
    databases = {row.namespace for row in spark.sql("show databases").collect()}
    assert set(LAYERS) <= databases
    expected = {
        "staging": {"stg_core__transactions", "stg_core__accounts", "stg_core__loans"},
        "intermediate": {"int_transactions_validated", "int_transactions_rejected"},
        "marts": {
            "dim_customers", "dim_accounts", "dim_branches", "fct_transactions",
            "fct_daily_account_balances", "fct_loans", "fct_daily_volume", "fct_transaction_loads",
        },
        "features": {
            "feat_loan_default", "feat_loan_behaviour", "feat_customer_monthly", "feat_daily_volume"
        },
    }  # fmt: skip
    for layer, tables in expected.items():
        present = {t.name for t in spark.catalog.listTables(layer)}
        assert tables <= present, (layer, tables - present)


def _core_facts(spark):
    """The core system's postings in the facts (the stream tests add streamed ones)."""
    return spark.table("marts.fct_transactions").where("source_system = 'core'")


def test_every_generated_transaction_reaches_the_fact_table(spark, built):
    assert _core_facts(spark).count() == built["raw.core_transactions"]
    assert spark.table("intermediate.int_transactions_rejected").count() == 0


def test_sql_command_prints_the_count_as_json(spark, built, capsys):
    assert (
        cli.main(
            [
                "sql",
                "select count(*) as n from marts.fct_transactions where source_system = 'core'",
                "--format",
                "json",
            ]
        )  # fmt: skip
        == 0
    )
    assert json.loads(capsys.readouterr().out) == [{"n": built["raw.core_transactions"]}]


def test_fact_table_is_partitioned_by_date(spark, built):
    files = spark.table("marts.fct_transactions").select(
        "transaction_date",
        F.regexp_extract(F.input_file_name(), r"transaction_date=(\d{4}-\d{2}-\d{2})", 1).alias(
            "folder"
        ),
    )
    assert files.where(F.col("folder") != F.col("transaction_date").cast("string")).count() == 0
    assert files.select("folder").distinct().count() > 300


def test_fact_table_writes_its_nearly_unique_columns_without_dictionaries(spark, built):
    # macros/spark/plain_encoded.sql: the setting is a table option, so every later write of
    # the table (the incremental runs' inserts) gets it too; code columns keep the default.
    ddl = spark.sql("show create table marts.fct_transactions").first()[0]
    for column in ("transaction_id", "account_id", "transaction_at", "amount_czk"):
        assert f"'parquet.enable.dictionary#{column}' = 'false'" in ddl
    assert "parquet.enable.dictionary#channel" not in ddl


def test_bi_daily_volume_is_one_file_in_day_order(spark, built):
    # Bucketed tables are written in the bucketing sort's order, not the model's `order by`:
    # the day order comes from `sorted_by` (macros/spark/clustered_cols.sql).
    files = spark.table("bi.bi_daily_volume").inputFiles()
    assert len(files) == 1
    days = [row[0] for row in spark.read.parquet(files[0]).select("volume_date").collect()]
    assert len(days) > 1
    assert days == sorted(days)


def test_computed_balances_match_the_core_system(spark, built):
    balances = spark.table("marts.fct_daily_account_balances")
    off = balances.where(
        F.abs(F.col("closing_balance_czk") - F.col("reported_closing_balance_czk")) > 0.01
    )
    assert balances.count() > 1000
    assert off.count() == 0


def test_loan_features_use_only_history_before_the_application(spark, built):
    loans = spark.table("features.feat_loan_default")
    # Recompute one feature straight from the facts with an explicit point-in-time filter.
    txns = spark.table("marts.fct_transactions")
    fct_loans = spark.table("marts.fct_loans")
    expected = (
        fct_loans.join(txns, "account_id")
        .where(
            (F.col("transaction_date") < F.col("application_date"))
            & (F.col("transaction_date") >= F.date_sub(F.col("application_date"), 180))
        )
        .groupBy("loan_id")
        .agg(F.count("*").alias("expected"))
    )
    compared = loans.join(expected, "loan_id", "left").select(
        "loan_id", "txn_count_lookback", F.coalesce("expected", F.lit(0)).alias("expected")
    )
    assert loans.count() > 10
    assert compared.where(F.col("txn_count_lookback") != F.col("expected")).count() == 0


def test_distinct_counts_equal_count_distinct(spark, built):
    # The marts count distinct values without count(distinct) (bitmaps, bit sets of codes): they
    # must give what count(distinct) gives, null values not counted.
    monthly = spark.sql(
        "select customer_id, feature_month, distinct_channels, distinct_categories"
        " from features.feat_customer_monthly"
    )
    monthly_expected = spark.sql(
        "select customer_id, trunc(transaction_date, 'MM') as feature_month,"
        " cast(count(distinct channel) as int) as distinct_channels,"
        " cast(count(distinct merchant_category) as int) as distinct_categories"
        " from marts.fct_transactions group by customer_id, trunc(transaction_date, 'MM')"
    )
    volume = spark.sql(
        "select volume_date, region_id, channel, active_account_count from marts.fct_daily_volume"
    )
    volume_expected = spark.sql(
        "select transaction_date as volume_date, region_id, channel,"
        " count(distinct account_id) as active_account_count"
        " from marts.fct_transactions group by transaction_date, region_id, channel"
    )
    for table, expected in ((monthly, monthly_expected), (volume, volume_expected)):
        assert table.count() > 100
        assert table.exceptAll(expected).count() == 0
        assert expected.exceptAll(table).count() == 0
    assert monthly.where("distinct_categories > 1").count() > 0


def test_volume_features_are_dense_with_lags(spark, built):
    series = spark.table("features.feat_daily_volume")
    per_series = series.groupBy("region_id", "channel").count().select("count").distinct().collect()
    assert len(per_series) == 1  # every series covers the same days
    row = (
        series.where(F.col("count_lag_7").isNotNull())
        .orderBy("volume_date", "region_id", "channel")
        .first()
    )
    week_before = series.where(
        (F.col("region_id") == row.region_id)
        & (F.col("channel") == row.channel)
        & (F.col("volume_date") == F.date_sub(F.lit(row.volume_date), 7))
    ).first()
    assert row.count_lag_7 == week_before.transaction_count


def _land_late_label(spark, batch_date: str):
    """Label the earliest unlabelled core transaction as an anomaly, in a fraud batch landed as
    ``batch_date``, an hour after the latest label; return that transaction's fact row."""
    labels = spark.table(f"raw.{LABEL_SOURCE}_anomaly_labels")
    late = (
        spark.table("marts.fct_transactions")
        .where(F.col("source_system") == "core")
        .join(labels, "transaction_id", "left_anti")
        .orderBy("transaction_date", "transaction_id")
        .first()
    )
    late_label = labels.select(
        F.lit(late.transaction_id).alias("transaction_id"),
        F.first("anomaly_type").alias("anomaly_type"),
        F.date_format(
            F.max(F.to_timestamp("labelled_at")) + F.expr("interval 1 hour"), "yyyy-MM-dd HH:mm:ss"
        ).alias("labelled_at"),
    )
    raw.land_batch(spark, LABEL_SOURCE, "anomaly_labels", late_label, batch_date)
    return late


def test_incremental_build_adds_exactly_the_new_batch(spark, built):
    from frontier.generator import land_next_day

    before = _core_facts(spark).count()
    all_before = spark.table("marts.fct_transactions").count()
    volume_before = spark.table("marts.fct_daily_volume").agg(F.sum("transaction_count")).first()[0]
    day, landed = land_next_day(spark)
    assert landed > 0
    # With the day, a label that arrives late for a transaction of an earlier month: the anomaly
    # features recompute that month too (checked against a full refresh below).
    next_day = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
    late = _land_late_label(spark, next_day)
    assert late.transaction_date.strftime("%Y-%m") < day[:7]
    dbt.build()
    relabelled = spark.table("features.feat_transaction_anomaly").where(
        F.col("transaction_id") == late.transaction_id
    )
    assert [r.is_anomaly for r in relabelled.collect()] == [1]

    facts = _core_facts(spark)
    assert facts.count() == before + landed
    assert facts.where(F.col("batch_date") == day).count() == landed
    # The volumes follow every added posting (streamed ones the stream tests left included).
    added = spark.table("marts.fct_transactions").count() - all_before
    volume_after = spark.table("marts.fct_daily_volume").agg(F.sum("transaction_count")).first()[0]
    assert volume_after == volume_before + added
    balances = spark.table("marts.fct_daily_account_balances")
    off = balances.where(
        F.abs(F.col("closing_balance_czk") - F.col("reported_closing_balance_czk")) > 0.01
    )
    assert off.count() == 0

    # The loads ledger names the days this run's rows fall on, with their counts: incremental
    # models recompute those days only.
    loads = spark.table("marts.fct_transaction_loads")
    run_loaded_at = loads.agg(F.max("loaded_at")).first()[0]
    logged = {
        row.transaction_date: row.transaction_count
        for row in loads.where(F.col("loaded_at") == run_loaded_at).collect()
    }
    loaded = (
        spark.table("marts.fct_transactions")
        .where(F.col("loaded_at") == run_loaded_at)
        .groupBy("transaction_date")
        .count()
        .collect()
    )
    assert logged == {row.transaction_date: row["count"] for row in loaded}
    assert sum(logged.values()) == added

    # This run's data tests of the facts read exactly the rows it added: rows newer than the
    # previous load, in the files written since the run started (older files are skipped
    # unopened, so a wrong bound would make the tests check nothing without failing).
    compiled = project_root() / "target/compiled/frontier/models/marts/_marts__models.yml"
    sql = (compiled / "not_null_fct_transactions_transaction_id.sql").read_text()
    tested = re.search(r"from \((select \* from .*?)\) as dbt_subquery", sql, re.S).group(1)
    assert "_metadata.file_modification_time" in tested
    assert spark.sql(tested).count() == added

    # The test of each customer's latest transactions reads every row of the customers the run
    # re-ranked (those with a row of this run) and no other customer's.
    compiled = project_root() / "target/compiled/frontier/models/bi/_bi__models.yml"
    (sql,) = [p.read_text() for p in compiled.glob("unique_combination_bi_customer_*.sql")]
    tested = re.search(r"from \((select \* from .*?)\) as dbt_subquery", sql, re.S).group(1)
    recent = spark.table("bi.bi_customer_recent_transactions")
    touched = recent.where(F.col("loaded_at") == run_loaded_at).select("customer_id").distinct()
    expected = recent.join(touched, "customer_id", "left_semi").count()
    assert 0 < spark.sql(tested).count() == expected < recent.count()

    # Incremental models that merge new rows into what they kept equal a full refresh: the
    # anomaly features (recomputed from the first new day, or the late label's month, on), each
    # customer's latest transactions (re-ranked in the touched buckets), the merchant volume of
    # the touched days, the loan features (their behaviour part recomputed only for the loans new
    # postings reach).
    merged = {
        "features.feat_transaction_anomaly": None,
        "bi.bi_customer_recent_transactions": None,
        "bi.bi_merchant_daily_volume": None,
        "features.feat_loan_default": None,
    }
    for table in merged:
        merged[table] = spark.table(table).localCheckpoint(eager=True)
    assert merged["features.feat_transaction_anomaly"].count() == (
        spark.table("marts.fct_transactions").count()
    )
    rebuilt = [t.split(".")[1] for t in merged] + ["feat_loan_behaviour"]
    dbt.build(full_refresh=True, select=" ".join(rebuilt))
    for table, incremental in merged.items():
        spark.catalog.refreshTable(table)
        full = spark.table(table)
        assert incremental.count() == full.count() > 0, table
        assert incremental.exceptAll(full).count() == 0, table

    # A second run with nothing new changes nothing.
    dbt.build()
    assert _core_facts(spark).count() == before + landed

    # A day alone (no late label): the anomaly features of its rows come from joining each one
    # with its account's postings inside its window (`pointwise`), not from the windows the run
    # above took, and the month it rewrites equals a full refresh. (Only that month: landing the
    # day replaces the label batch the late label above was landed in.)
    day, _ = land_next_day(spark)
    dbt.build()
    anomaly_sql = project_root() / "target/compiled/frontier/models/features"
    assert "profile_context" in (anomaly_sql / "feat_transaction_anomaly.sql").read_text()
    table = "features.feat_transaction_anomaly"
    rewritten = F.col("transaction_month") == F.trunc(F.lit(day).cast("date"), "MM")
    incremental = spark.table(table).where(rewritten).localCheckpoint(eager=True)
    dbt.build(full_refresh=True, select="feat_transaction_anomaly")
    spark.catalog.refreshTable(table)
    full = spark.table(table).where(rewritten)
    assert incremental.count() == full.count() > 0
    diff = incremental.exceptAll(full).collect() + full.exceptAll(incremental).collect()
    assert diff == [], [r.asDict() for r in diff]


def test_a_build_leaves_out_what_no_changed_source_reaches(spark, built):
    results = project_root() / "target" / "run_results.json"
    dbt.build()  # everything, unless the previous build was recorded (then: nothing changed)
    last = json.loads(results.read_text())["metadata"]["invocation_id"]
    dbt.build()
    assert json.loads(results.read_text())["metadata"]["invocation_id"] == last  # no dbt run

    labels = spark.table(f"raw.{LABEL_SOURCE}_anomaly_labels")
    latest_batch = labels.agg(F.max("batch_date")).first()[0]
    batch = (dt.date.fromisoformat(latest_batch) + dt.timedelta(days=1)).isoformat()
    late = _land_late_label(spark, batch)
    dbt.build()
    ran = {r["unique_id"] for r in json.loads(results.read_text())["results"]}
    assert "model.frontier.feat_transaction_anomaly" in ran
    # The facts, the dimensions and the seeds read nothing that changed.
    assert not ran & {
        "model.frontier.fct_transactions",
        "model.frontier.dim_customers",
        "seed.frontier.fx_rates",
    }
    relabelled = spark.table("features.feat_transaction_anomaly").where(
        F.col("transaction_id") == late.transaction_id
    )
    assert [r.is_anomaly for r in relabelled.collect()] == [1]


def test_dbt_docs_generate_writes_the_catalog(spark, built):
    dbt.run(["docs", "generate"])
    catalog = json.loads((project_root() / "target" / "catalog.json").read_text())
    assert "model.frontier.fct_transactions" in catalog["nodes"]
