"""Idempotent micro-batch writes into partitioned parquet tables.

Structured Streaming replays a micro-batch after a crash with the same batch id and the same
input. Each batch's files are therefore named after it (``<tag>-<n>.parquet``, tag = stream id +
batch id): writing a batch first deletes any file an earlier attempt of the same batch left, then
adds its files, each copied under a hidden name (Spark skips names starting with ``.``) and
renamed into its partition folder. A replayed batch replaces its own files instead of adding a
second copy. A batch's rows arrive as an Arrow table (the stream holds them on the driver; see
job.py) and are written with pyarrow, without a Spark job. Partition folders are discovered by
listing (``spark.sql.hive.manageFilesourcePartitions=false``, config.py), so a new day needs no
metastore call, and readers see new files on their next listing (a session that cached the
table's file list refreshes it). The copies and renames go through Hadoop's FileSystem API, so
the same code runs on a local disk, HDFS or an object store.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import SparkSession

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
    def typed_columns(self) -> list[tuple[str, str]]:
        """(name, type) pairs; the split skips the comma inside ``decimal(18,2)``."""
        parts = re.split(r",(?![^()]*\))", self.schema)
        return [(name, kind.strip().lower()) for name, kind in (p.split(None, 1) for p in parts)]

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.typed_columns]

    @property
    def arrow_schema(self) -> pa.Schema:
        """The columns as Arrow types, as Spark reads them back from parquet."""
        return pa.schema([pa.field(name, _arrow_type(kind)) for name, kind in self.typed_columns])

    @property
    def location(self) -> str:
        database, table = self.name.split(".")
        return str(config.paths().hive_warehouse / f"{database}.db" / table)


_ARROW_TYPES = {
    "string": pa.string(),
    "bigint": pa.int64(),
    "int": pa.int32(),
    "double": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),  # parquet "adjusted to UTC": Spark's timestamp
}


def _arrow_type(kind: str) -> pa.DataType:
    decimal = re.fullmatch(r"decimal\((\d+),\s*(\d+)\)", kind)
    if decimal:
        return pa.decimal128(int(decimal[1]), int(decimal[2]))
    try:
        return _ARROW_TYPES[kind]
    except KeyError:
        raise ValueError(f"no Arrow type for the column type {kind!r}") from None


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
    folder = f"{table.location}/*" if table.partition else table.location
    found = []
    for name in (f"{tag}*", f".{tag}*"):  # and a copy a crash left before its rename
        found += fs.globStatus(Path(f"{folder}/{name}")) or []
    for status in found:
        fs.delete(status.getPath(), False)
    return len(found)


def write(spark: SparkSession, table: Table, rows: pa.Table, tag: str) -> int:
    """Add batch ``tag``'s rows to ``table``; returns the files written.

    Call ``discard`` first when the batch may replay. The rows are cast to the table's schema
    (a missing column or a value that does not fit fails here, before any file lands).
    """
    rows = rows.select(table.column_names).cast(table.arrow_schema)
    if rows.num_rows == 0:
        return 0
    fs, Path = _fs(spark, table.location)
    if table.partition:
        values = pc.unique(rows[table.partition]).to_pylist()
        parts = [
            (f"{table.partition}={value}", rows.filter(pc.equal(rows[table.partition], value)))
            for value in sorted(values)
        ]
        parts = [(folder, part.drop_columns([table.partition])) for folder, part in parts]
    else:
        parts = [("", rows)]
    with tempfile.TemporaryDirectory(prefix="frontier-sink-") as local:
        for n, (folder, part) in enumerate(parts):
            name = f"{tag}-{n:05d}.parquet"
            pq.write_table(part, f"{local}/{name}")
            target = Path(f"{table.location}/{folder}") if folder else Path(table.location)
            fs.mkdirs(target)
            hidden = Path(target, f".{name}")
            fs.copyFromLocalFile(True, True, Path(f"{local}/{name}"), hidden)
            if not fs.rename(hidden, Path(target, name)):
                raise OSError(f"{table.name}: could not rename {hidden} into place")
    return len(parts)


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
