"""The EDA report: Spark aggregates that match the table, rendered into one HTML file."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import functions as F

from frontier import eda


def test_profile_matches_the_table_and_the_report_has_every_section(spark, built):
    table = "marts.fct_transactions"
    facts = spark.table(table)
    report = eda.build_report(spark, table)

    assert report.rows == facts.count()
    columns = {c.name: c for c in report.columns}
    amount = columns["amount_czk"]
    assert amount.nulls == facts.where("amount_czk is null").count()
    assert float(amount.maximum) == float(facts.agg(F.max("amount_czk")).first()[0])
    assert int(amount.histogram["count"].sum()) == report.rows - amount.nulls
    assert amount.quantiles == sorted(amount.quantiles) and len(amount.quantiles) == 5
    channels = columns["channel"].histogram
    expected = {r.channel: r["count"] for r in facts.groupBy("channel").count().collect()}
    assert dict(zip(channels["bucket"], channels["count"], strict=True)) == expected
    assert report.correlations.loc["amount_czk", "amount_czk"] == 1.0
    assert int(report.daily["transactions"].sum()) == report.rows
    assert set(report.by_channel["channel"]) == set(expected)

    path = eda.write(spark, table)
    page = Path(path).read_text()
    for section in ("Columns", "Correlations", "Volume over time", "Amounts by channel",
                    "Amounts by merchant category", "Top anomalies"):  # fmt: skip
        assert f"<h2>{section}" in page, section
    assert page.count("data:image/png;base64,") >= 5
