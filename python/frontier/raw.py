"""The landing zone and the ``raw`` database: files dropped by source systems, seen as Hive tables.

Source systems land extracts (every column a string, as an extract would be) under
``<warehouse>/landing/<source>/<table>/``, as parquet files. Each is registered as an external
Hive table ``raw.<source>_<table>`` over that folder, so the files stay where they landed and
dbt's sources read them. Typing and validation happen in dbt's staging layer, where bad values are
caught. Append-only tables are partitioned by ``batch_date`` (the day a batch landed); partitions
are found by listing the folders (see ``spark.sql.hive.manageFilesourcePartitions`` in config.py).

Why parquet and not CSV, although the columns are text either way: a CSV line is parsed whole,
a parquet extract is read column by column. At 10M transactions the ``int_transactions_validated``
query (which runs nearly alone in a full build) took 48-54 s from CSV and 37-42 s from parquet
(alternating, one session). Bad values still arrive as text and still get their rejection reason
in dbt. A CSV the user has is loaded with ``frontier load csv`` (:mod:`frontier.sources.csv_file`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, TimestampType

from frontier import config


def landing_path(source: str, table: str) -> Path:
    return config.paths().landing / source / table


def as_extract(df: DataFrame) -> DataFrame:
    """Every column as text, dates as yyyy-MM-dd and timestamps as yyyy-MM-dd HH:mm:ss."""
    cols = []
    for field in df.schema.fields:
        col = F.col(field.name)
        if isinstance(field.dataType, TimestampType):
            col = F.date_format(col, "yyyy-MM-dd HH:mm:ss")
        elif isinstance(field.dataType, DateType):
            col = F.date_format(col, "yyyy-MM-dd")
        cols.append(col.cast("string").alias(field.name))
    return df.select(cols)


def _write_extract(df: DataFrame, path: Path) -> None:
    as_extract(df).write.mode("overwrite").parquet(str(path))


def _register(
    spark: SparkSession, source: str, table: str, columns: list[str], partitioned: bool
) -> None:
    name = f"raw.{source}_{table}"
    col_list = ", ".join(f"`{c}` string" for c in columns)
    partition = ""
    if partitioned:
        col_list += ", `batch_date` string"
        partition = "partitioned by (batch_date)"
    spark.sql(f"drop table if exists {name}")
    spark.sql(
        f"create table {name} ({col_list}) using parquet {partition} "
        f"location '{landing_path(source, table)}'"
    )


def land_snapshot(spark: SparkSession, source: str, table: str, df: DataFrame) -> None:
    """Replace a full-snapshot extract (reference and master data) and register it."""
    _write_extract(df.coalesce(1), landing_path(source, table))
    _register(spark, source, table, df.columns, partitioned=False)


def land_batch(
    spark: SparkSession, source: str, table: str, df: DataFrame, batch_date: str
) -> None:
    """Land one batch of an append-only extract as partition ``batch_date`` and register it."""
    name = f"raw.{source}_{table}"
    exists = spark.catalog.tableExists(name)
    if exists and _provider(spark, name) != "parquet":
        raise RuntimeError(
            f"{name} holds extracts landed as CSV by an earlier version of frontier; a parquet "
            f"batch cannot join them. Land the data again (`frontier generate` or "
            f"`frontier load berka`), then `frontier build --full-refresh`."
        )
    _write_extract(df, landing_path(source, table) / f"batch_date={batch_date}")
    if exists:
        spark.catalog.refreshTable(name)  # partitions are discovered from the folders
    else:
        _register(spark, source, table, df.columns, partitioned=True)


def _provider(spark: SparkSession, name: str) -> str:
    """The data source a table is stored as (``parquet``, ``csv``, …), lower case."""
    rows = spark.sql(f"describe table extended {name}").collect()
    return next((r.data_type.lower() for r in rows if r.col_name == "Provider"), "")


def clear_source(spark: SparkSession, source: str) -> None:
    """Remove a source's landed files and its ``raw`` tables (a reload replaces the whole history).

    Dropping the tables too means a batch table is registered anew by the first batch landed,
    with that batch's columns and the current format.
    """
    folder = config.paths().landing / source
    if folder.is_dir():
        for table in folder.iterdir():
            if table.is_dir():
                spark.sql(f"drop table if exists raw.{source}_{table.name}")
    shutil.rmtree(folder, ignore_errors=True)
