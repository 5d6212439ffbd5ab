"""``frontier load csv PATH --table raw.NAME``: a CSV file (or a folder of them) as a typed table.

Column names become lower_snake_case (``default.payment.next.month`` becomes
``default_payment_next_month``), types are inferred from the data, and every line that does not
fit the inferred layout (wrong number of fields, a value of another type) goes to
``raw.load_quarantine`` with the raw text and the reason instead of into the table. The table is
a managed parquet table; loading the same name again replaces it. Tables the project manages
itself (the landing-zone extracts, dbt's models) cannot be replaced this way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from frontier.ml import registry

QUARANTINE = "raw.load_quarantine"
QUARANTINE_SCHEMA = (
    "table_name string, source_path string, raw_record string, reason string, loaded_at timestamp"
)
LOADED_BY = "frontier.loaded_from"  # table property naming the file a table was loaded from
CORRUPT = "_corrupt_record"
REASON = "does not fit the header's {columns} columns and their inferred types"
TABLE = re.compile(r"^(?:([a-z][a-z0-9_]*)\.)?([a-z][a-z0-9_]*)$")


class LoadError(ValueError):
    """A file or a table name that cannot be loaded as given; the message says why."""


@dataclass(frozen=True)
class Loaded:
    table: str
    rows: int
    quarantined: int
    columns: list[tuple[str, str, str]]  # (name in the file, column name, type)


def column_names(header: list[str]) -> list[str]:
    """lower_snake_case names, unique, never starting with a digit."""
    out: list[str] = []
    for i, raw in enumerate(header):
        name = re.sub(r"[^0-9a-z]+", "_", raw.strip().lower()).strip("_") or f"column_{i + 1}"
        if name[0].isdigit():
            name = f"c_{name}"
        base, n = name, 2
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


def table_name(table: str) -> str:
    match = TABLE.match(table.strip().lower())
    if not match:
        raise LoadError(f"table {table!r} is not a name like raw.my_table (lower_snake_case)")
    return f"{match.group(1) or 'raw'}.{match.group(2)}"


def load(spark: SparkSession, path: Path, table: str) -> Loaded:
    """Load ``path`` into ``table``; malformed lines into the quarantine. Returns what it did."""
    name = table_name(table)
    database = name.split(".")[0]
    if not spark.catalog.databaseExists(database):
        raise LoadError(f"database {database} does not exist (tables load into raw by default)")
    path = path.expanduser().resolve()
    if not path.exists():
        raise LoadError(f"{path} does not exist")
    if path.is_dir() and not any(path.glob("*.csv*")):
        raise LoadError(f"{path} holds no .csv files")
    if path.is_file() and path.stat().st_size == 0:
        raise LoadError(f"{path} is empty")
    _check_replaceable(spark, name)

    reader = spark.read.option("header", True).option("mode", "PERMISSIVE")
    inferred = reader.option("inferSchema", True).csv(str(path))
    if not inferred.columns:
        raise LoadError(f"{path} has no header line")
    names = column_names(inferred.columns)
    schema = StructType(
        [StructField(n, f.dataType) for n, f in zip(names, inferred.schema.fields, strict=True)]
        + [StructField(CORRUPT, StringType())]
    )
    frame = (
        reader.schema(schema)
        .option("columnNameOfCorruptRecord", CORRUPT)
        .option("enforceSchema", True)
        .csv(str(path))
        .withColumn("__source", F.input_file_name())
        .cache()  # Spark reads the corrupt-record column only from a materialised frame
    )
    try:
        good = frame.where(F.col(CORRUPT).isNull()).drop(CORRUPT, "__source")
        bad = frame.where(F.col(CORRUPT).isNotNull()).select(
            F.lit(name).alias("table_name"),
            F.col("__source").alias("source_path"),
            F.col(CORRUPT).alias("raw_record"),
            F.lit(REASON.format(columns=len(names))).alias("reason"),
            F.lit(registry.now()).alias("loaded_at"),
        )
        rows = good.count()
        if rows == 0:
            raise LoadError(f"{path}: no line fits the inferred layout; nothing loaded")
        good.write.mode("overwrite").format("parquet").saveAsTable(name)
        spark.sql(f"alter table {name} set tblproperties ('{LOADED_BY}' = '{path}')")
        spark.sql(f"create table if not exists {QUARANTINE} ({QUARANTINE_SCHEMA}) using parquet")
        quarantined = bad.count()
        if quarantined:
            bad.write.insertInto(QUARANTINE)
    finally:
        frame.unpersist()
    columns = [
        (original, f.name, f.dataType.simpleString())
        for original, f in zip(inferred.columns, spark.table(name).schema.fields, strict=True)
    ]
    return Loaded(name, rows, quarantined, columns)


def _check_replaceable(spark: SparkSession, name: str) -> None:
    if not spark.catalog.tableExists(name):
        return
    properties = {r.key: r.value for r in spark.sql(f"show tblproperties {name}").collect()}
    if LOADED_BY not in properties:
        raise LoadError(
            f"{name} exists and was not loaded by `frontier load csv`; pick another name"
        )
