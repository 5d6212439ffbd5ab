"""Idempotent micro-batch writes into partitioned parquet tables.

Structured Streaming replays a micro-batch after a crash with the same batch id and the same
input. Each batch's files are therefore named after it (``<tag>-<n>.parquet``, tag = stream id +
batch id): writing a batch first deletes any file an earlier attempt of the same batch left, then
writes to a hidden staging folder and renames the files into the table's partition folders. A
replayed batch replaces its own files instead of adding a second copy. Writers do not refresh
the session's view of the table (a refresh drops every cached plan that reads it): the stream
refreshes its tables once at the start of each batch. Partition folders are
discovered by listing (``spark.sql.hive.manageFilesourcePartitions=false``, config.py), so a new
day needs no metastore call. The moves go through Hadoop's FileSystem API, so the same code runs
on a local disk, HDFS or an object store.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from frontier import config


@dataclass(frozen=True)
class Table:
    name: str  # database.table
    columns: str  # DDL column list, partition column last
    partition: str | None
    format: str = "parquet"

    @property
    def schema(self) -> str:
        return " ".join(self.columns.split())

    @property
    def column_names(self) -> list[str]:
        # split on the commas between columns, not those inside decimal(18,2)
        return [part.split()[0] for part in re.split(r",(?![^()]*\))", self.schema)]

    @property
    def location(self) -> str:
        database, table = self.name.split(".")
        return str(config.paths().hive_warehouse / f"{database}.db" / table)


def ensure(spark: SparkSession, table: Table) -> None:
    fs, Path = _fs(spark, table.location)
    fs.mkdirs(Path(table.location))
    partitioned = f"partitioned by ({table.partition})" if table.partition else ""
    spark.sql(
        f"create table if not exists {table.name} ({table.schema}) "
        f"using {table.format} {partitioned} location '{table.location}'"
    )


def _fs(spark: SparkSession, path: str):
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    return hadoop_path.getFileSystem(conf), jvm.org.apache.hadoop.fs.Path


def discard(spark: SparkSession, table: Table, tag: str) -> int:
    """Delete the files an earlier attempt of batch ``tag`` wrote; returns how many."""
    fs, Path = _fs(spark, table.location)
    pattern = f"{table.location}/*/{tag}-*" if table.partition else f"{table.location}/{tag}*"
    found = fs.globStatus(Path(pattern)) or []
    for status in found:
        fs.delete(status.getPath(), False)
    return len(found)


def write(spark: SparkSession, table: Table, df: DataFrame, tag: str) -> None:
    """Add batch ``tag``'s rows to ``table``; call ``discard`` first when the batch may replay."""
    fs, Path = _fs(spark, table.location)
    staging = f"{table.location}/_staging/{tag}"
    writer = df.select(*table.column_names).write.mode("overwrite")  # fails on a missing column
    if table.partition:
        writer = writer.partitionBy(table.partition)
    writer.parquet(staging)
    files = fs.listFiles(Path(staging), True)
    n = 0
    while files.hasNext():
        source = files.next().getPath()
        if not source.getName().endswith(".parquet"):
            continue  # _SUCCESS and checksum files
        folder = source.getParent()
        relative = folder.getName() if table.partition else None
        target_dir = Path(f"{table.location}/{relative}") if relative else Path(table.location)
        fs.mkdirs(target_dir)
        fs.rename(source, Path(target_dir, f"{tag}-{n:05d}.parquet"))
        n += 1
    fs.delete(Path(staging), True)


def write_record(spark: SparkSession, table: Table, record: dict, tag: str) -> None:
    """Add one row to an unpartitioned JSON table as file ``<tag>.json``, without a Spark job."""
    if table.format != "json" or table.partition:
        raise ValueError(f"{table.name}: write_record needs an unpartitioned json table")
    fs, Path = _fs(spark, table.location)
    values = {name: record[name] for name in table.column_names}
    line = json.dumps(values, default=_json_value) + "\n"
    hidden, final = Path(f"{table.location}/.{tag}.json"), Path(f"{table.location}/{tag}.json")
    out = fs.create(hidden, True)
    out.write(bytearray(line.encode()))
    out.close()
    fs.rename(hidden, final)


def _json_value(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
