"""The one Spark/Hive configuration of the project.

Every entry point reads this module: the ``frontier`` command, dbt's ``session`` target (through
the ``spark-defaults.conf`` that ``frontier init`` renders from it), the ML jobs, the streaming job
and the Thrift server. Nothing else in the repository names a warehouse path, a metastore URL or
a Spark setting.

Environment overrides (all optional):

``FRONTIER_WAREHOUSE``       root folder of the local warehouse (default ``<repo>/.warehouse``)
``FRONTIER_SPARK_MASTER``    Spark master URL (default ``local[2]``; ``frontier --master`` sets it)
``FRONTIER_EXECUTOR_MEMORY`` executor heap on a cluster (default ``3g``)
``FRONTIER_DRIVER_MEMORY``   driver heap (default ``6g``)
``FRONTIER_SHUFFLE_PARTITIONS``  initial shuffle partitions before AQE coalesces (default ``8``)
``FRONTIER_SCHEDULER_MODE``  Spark's job scheduling, ``FAIR`` (default) or ``FIFO``
``FRONTIER_STREAM_*``        the streaming job (see ``stream()``)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Hive databases, one per layer. dbt's generate_schema_name macro maps folders onto these names.
LAYERS = ("raw", "staging", "intermediate", "marts", "features", "ml", "bi")


def project_root() -> Path:
    """The repository root: the folder that holds ``dbt_project.yml``.

    The package is installed in editable mode from ``python/``, so the root is two levels up from
    this file. ``FRONTIER_PROJECT_ROOT`` overrides it for unusual installs.
    """
    override = os.environ.get("FRONTIER_PROJECT_ROOT")
    root = Path(override) if override else Path(__file__).resolve().parents[2]
    if not (root / "dbt_project.yml").is_file():
        raise RuntimeError(
            f"{root} holds no dbt_project.yml; set FRONTIER_PROJECT_ROOT to the repository root"
        )
    return root


@dataclass(frozen=True)
class Paths:
    """Where the warehouse keeps its files; all absolute, so any working directory reaches them."""

    home: Path

    @property
    def hive_warehouse(self) -> Path:
        return self.home / "hive"

    @property
    def metastore_db(self) -> Path:
        return self.home / "metastore_db"

    @property
    def landing(self) -> Path:
        """The landing zone: files dropped by source systems, read by ``raw`` external tables."""
        return self.home / "landing"

    @property
    def stream_landing(self) -> Path:
        """Where event exporters drop newline-delimited JSON transaction events."""
        return self.landing / "stream" / "transactions"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def checkpoints(self) -> Path:
        return self.home / "checkpoints"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def models(self) -> Path:
        """Saved Spark ML pipelines, one folder per model name and version."""
        return self.home / "models"


def dbt_project() -> dict:
    """The parsed ``dbt_project.yml``."""
    import yaml

    with open(project_root() / "dbt_project.yml") as fh:
        return yaml.safe_load(fh)


def dbt_var(name: str):
    """A variable of dbt_project.yml: the one home of the settings SQL and Python share."""
    return dbt_project()["vars"][name]


def paths() -> Paths:
    home = os.environ.get("FRONTIER_WAREHOUSE")
    return Paths(Path(home).resolve() if home else project_root() / ".warehouse")


CORE_SOURCES = ("core", "berka")


def core_source() -> str:
    """Which core banking system the warehouse's marts are built from.

    ``core``: the generator's synthetic bank (``frontier generate``); ``berka``: the PKDD'99 Czech
    bank (``frontier load berka``). Each command records its choice in the warehouse, and
    :mod:`frontier.dbt` passes it to dbt as the ``core_source`` variable.
    """
    marker = paths().home / "core_source"
    value = marker.read_text().strip() if marker.is_file() else "core"
    if value not in CORE_SOURCES:
        raise ValueError(f"{marker} names {value!r}, not one of {', '.join(CORE_SOURCES)}")
    return value


def set_core_source(value: str) -> None:
    if value not in CORE_SOURCES:
        raise ValueError(f"core source {value!r} is not one of {', '.join(CORE_SOURCES)}")
    home = paths().home
    home.mkdir(parents=True, exist_ok=True)
    (home / "core_source").write_text(value + "\n")


def debug() -> bool:
    return os.environ.get("FRONTIER_DEBUG") == "1"


def spark_master() -> str:
    return os.environ.get("FRONTIER_SPARK_MASTER", "local[2]")


@dataclass(frozen=True)
class Postgres:
    """The shared metastore database. Local defaults; every value from ``FRONTIER_PG_*``."""

    host: str
    port: int
    database: str
    user: str
    password: str
    jdbc_jar: str

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://{self.host}:{self.port}/{self.database}"


@dataclass(frozen=True)
class Stream:
    """Settings of ``frontier stream`` (see python/frontier/stream/job.py)."""

    source: str  # files | kafka
    trigger_seconds: float
    max_files_per_trigger: int
    lateness_hours: float
    warm_up_events: int
    kafka_servers: str
    kafka_topic: str


def stream() -> Stream:
    env = os.environ.get
    source = env("FRONTIER_STREAM_SOURCE", "files")
    if source not in ("files", "kafka"):
        raise ValueError(f"FRONTIER_STREAM_SOURCE must be files or kafka, not {source!r}")
    return Stream(
        source=source,
        trigger_seconds=float(env("FRONTIER_STREAM_TRIGGER_SECONDS", "1")),
        max_files_per_trigger=int(env("FRONTIER_STREAM_MAX_FILES", "200")),
        lateness_hours=float(env("FRONTIER_STREAM_LATENESS_HOURS", "24")),
        warm_up_events=int(env("FRONTIER_STREAM_WARM_UP_EVENTS", "20000")),
        kafka_servers=env("FRONTIER_KAFKA_SERVERS", "127.0.0.1:9092"),
        kafka_topic=env("FRONTIER_KAFKA_TOPIC", "transactions"),
    )


def metastore_mode() -> str:
    """``derby`` (embedded, one process at a time: the default) or ``postgres`` (shared)."""
    mode = os.environ.get("FRONTIER_METASTORE", "derby")
    if mode not in ("derby", "postgres"):
        raise ValueError(f"FRONTIER_METASTORE must be derby or postgres, not {mode!r}")
    return mode


def postgres() -> Postgres:
    env = os.environ.get
    return Postgres(
        host=env("FRONTIER_PG_HOST", "127.0.0.1"),
        port=int(env("FRONTIER_PG_PORT", "5432")),
        database=env("FRONTIER_PG_DATABASE", "frontier_metastore"),
        user=env("FRONTIER_PG_USER", "frontier"),
        password=env("FRONTIER_PG_PASSWORD", "frontier-local"),
        jdbc_jar=env("FRONTIER_PG_JDBC_JAR", "/usr/share/java/postgresql.jar"),
    )


@dataclass(frozen=True)
class ThriftServer:
    host: str
    port: int


def thrift_server() -> ThriftServer:
    """Where ``frontier serve`` listens and clients connect: loopback unless told otherwise."""
    return ThriftServer(
        host=os.environ.get("FRONTIER_THRIFT_HOST", "127.0.0.1"),
        port=int(os.environ.get("FRONTIER_THRIFT_PORT", "10000")),
    )


def serving_conf() -> dict[str, str]:
    """What ``frontier serve`` changes in :func:`spark_conf` for its clients: dashboards.

    A BI tool sends many small queries at once. On two cores each shuffle partition beyond the
    first is a task to schedule, and adaptive execution plans every stage again and submits it
    as a job of its own, which for a query reading a few thousand rows costs more than the query.
    Side by side on the 10M bench warehouse (``frontier bench bi --clients 8``), these settings
    together with ``hive.server2.enable.doAs=false`` (see :mod:`frontier.serve`) answered ~15 %
    more queries in the same time. A session that runs big jobs over Thrift (``dbt build
    --target server``) sets the batch values back for itself (profiles/profiles.yml).
    """
    return {
        "spark.sql.shuffle.partitions": "1",
        "spark.sql.adaptive.enabled": "false",
    }


def _metastore_conf(p: Paths) -> dict[str, str]:
    if metastore_mode() == "derby":
        # Every connection key is set, Hive's Derby defaults included: spark-defaults.conf still
        # holds the PostgreSQL driver and user after a run in the other mode, and a key left out
        # here would be taken from it (the Derby metastore then fails to open).
        return {
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={p.metastore_db};create=true"
            ),
            "spark.hadoop.javax.jdo.option.ConnectionDriverName": (
                "org.apache.derby.jdbc.EmbeddedDriver"
            ),
            "spark.hadoop.javax.jdo.option.ConnectionUserName": "APP",
            "spark.hadoop.javax.jdo.option.ConnectionPassword": "mine",
            "spark.hadoop.datanucleus.schema.autoCreateAll": "true",
        }
    pg = postgres()
    return {
        "spark.hadoop.javax.jdo.option.ConnectionURL": pg.jdbc_url,
        "spark.hadoop.javax.jdo.option.ConnectionDriverName": "org.postgresql.Driver",
        "spark.hadoop.javax.jdo.option.ConnectionUserName": pg.user,
        "spark.hadoop.javax.jdo.option.ConnectionPassword": pg.password,
        # DataNucleus creating foreign keys while it creates the schema deadlocks on PostgreSQL
        # (one connection adds a constraint to a table another holds open in a transaction).
        # autoCreateAll would switch constraint creation back on: create tables and columns only.
        "spark.hadoop.datanucleus.schema.autoCreateAll": "false",
        "spark.hadoop.datanucleus.schema.autoCreateTables": "true",
        "spark.hadoop.datanucleus.schema.autoCreateColumns": "true",
        "spark.hadoop.datanucleus.schema.autoCreateConstraints": "false",
        "spark.driver.extraClassPath": pg.jdbc_jar,
        "spark.executor.extraClassPath": pg.jdbc_jar,
    }


def spark_conf(warehouse: Paths | None = None) -> dict[str, str]:
    """Spark settings sized for a 2-core, 24 GB machine, on the configured metastore."""
    from udfs import jvm

    p = warehouse or paths()
    log4j = project_root() / "conf" / "log4j2.properties"
    # The throughput collector, not G1 (Java 17's default): a build is a long batch of
    # allocation-heavy tasks on two cores, where G1's write barriers and concurrent marking take
    # CPU the tasks need. At 10M, a full build and one more day in one process, runs alternating:
    # G1 323.7 / 48.1 s and 309.9 / 50.2 s, ParallelGC 300.6 / 45.9 s and 303.6 / 45.5 s; CPU of
    # all threads 700 and 676 vs 647 and 651 core-s. Its pauses stop every thread (the Thrift
    # server's too): in the 10M bench, 344 young collections of 22 ms on average and 15 full
    # ones of 240 ms. `frontier bench bi` (8 clients, fresh servers) lost nothing by them: p95
    # 433 and 477 ms vs G1's 498 ms.
    java_opts = (
        f"-Dderby.system.home={p.home} -Dlog4j2.configurationFile=file:{log4j} -XX:+UseParallelGC"
    )
    conf = {
        "spark.app.name": "frontier",
        "spark.master": spark_master(),
        "spark.sql.catalogImplementation": "hive",
        # The predict functions' Hive UDF (python/udfs/jvm), built on first use: shipped to
        # executors by spark.jars, on the driver's class path below.
        "spark.jars": str(jvm.jar()),
        "spark.sql.warehouse.dir": str(p.hive_warehouse),
        **_metastore_conf(p),
        "spark.hadoop.hive.metastore.schema.verification": "false",
        "spark.hadoop.hive.exec.dynamic.partition.mode": "nonstrict",
        "spark.driver.memory": os.environ.get("FRONTIER_DRIVER_MEMORY", "6g"),
        "spark.driver.extraJavaOptions": java_opts,
        # On a cluster (FRONTIER_SPARK_MASTER=spark://…) each executor's heap; unused by local[2].
        "spark.executor.memory": os.environ.get("FRONTIER_EXECUTOR_MEMORY", "3g"),
        "spark.executor.extraJavaOptions": java_opts,
        # Few cores: a handful of shuffle partitions, which AQE coalesces further.
        "spark.sql.shuffle.partitions": os.environ.get("FRONTIER_SHUFFLE_PARTITIONS", "8"),
        # Jobs from concurrent callers (dbt's threads, the Thrift server's clients) share the
        # cores instead of queueing behind the first one submitted.
        "spark.scheduler.mode": os.environ.get("FRONTIER_SCHEDULER_MODE", "FAIR"),
        "spark.scheduler.allocation.file": str(project_root() / "conf" / "fairscheduler.xml"),
        "spark.default.parallelism": "4",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.adaptive.advisoryPartitionSizeInBytes": "64m",
        "spark.sql.autoBroadcastJoinThreshold": "64m",
        "spark.sql.files.maxPartitionBytes": "128m",
        # Generated query code kept compiled for reuse. A daily dbt build compiles ~540 distinct
        # classes; with the default cache of 100 the next run compiled ~650 again (Janino, then
        # the JIT's C2 on the new classes), with 5000 ~50. At 10M, the 2nd and 3rd daily run of
        # one process: 56.1 / 48.0 s instead of 62.0 / 54.1 s.
        "spark.sql.codegen.cache.maxEntries": "5000",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # Parquet timestamps as INT64 micros, not Spark's legacy INT96: INT96 columns carry no
        # min/max statistics, so a filter such as `loaded_at > …` could skip nothing.
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        # Partitions of parquet/CSV tables are found by listing their folders, not stored in the
        # metastore: on a local or HDFS file system listing is fast, while fetching hundreds of
        # partitions from the metastore for every query serialises on the one Hive client.
        "spark.sql.hive.manageFilesourcePartitions": "false",
        # List partition folders on the driver: a distributed listing job per query costs
        # seconds of task scheduling on two cores for a table with hundreds of day partitions.
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
        "spark.sql.session.timeZone": "UTC",
        # Long-lived sessions (the Thrift server) re-read a table's files at most this old, so
        # partitions and files that the stream or another job adds show up without a REFRESH.
        "spark.sql.metadataCacheTTLSeconds": "10",
        # dbt-spark forces ANSI off for its sessions; every entry point behaves the same.
        "spark.sql.ansi.enabled": "false",
        "spark.ui.enabled": os.environ.get("FRONTIER_SPARK_UI", "false"),
        "spark.ui.showConsoleProgress": "false",
    }
    # FRONTIER_EVENT_LOG=<folder>: Spark's event log, uncompressed, for `frontier profile`.
    event_log = os.environ.get("FRONTIER_EVENT_LOG")
    if event_log:
        Path(event_log).mkdir(parents=True, exist_ok=True)
        conf["spark.eventLog.enabled"] = "true"
        conf["spark.eventLog.dir"] = Path(event_log).resolve().as_uri()
        conf["spark.eventLog.compress"] = "false"
    # spark.jars alone reaches the driver of a pyspark session but not of spark-submit's Thrift
    # server (its function lookups failed with CANNOT_LOAD_FUNCTION_CLASS), so the driver gets
    # the jar on its class path too, beside the metastore's JDBC driver in PostgreSQL mode.
    driver_classpath = [conf["spark.jars"], conf.get("spark.driver.extraClassPath")]
    conf["spark.driver.extraClassPath"] = os.pathsep.join(filter(None, driver_classpath))
    return conf


def render_spark_defaults(conf: dict[str, str]) -> str:
    lines = ["# Rendered by `frontier init` from python/frontier/config.py; do not edit by hand."]
    lines += [f"{key} {value}" for key, value in sorted(conf.items())]
    return "\n".join(lines) + "\n"
