"""The project's SparkSession: built once per process from :mod:`frontier.config`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from frontier import config


def get_spark() -> SparkSession:
    """Return the active session, creating it with the project configuration if needed.

    dbt's ``session`` method calls ``SparkSession.builder.getOrCreate()`` too, so a dbt run started
    in-process by :mod:`frontier.dbt` shares this session (and its metastore) instead of starting
    a second JVM.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # Bind the driver to loopback: nothing here should listen on another interface.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers run this interpreter, so they import the same packages as the driver.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in config.spark_conf().items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    for layer in config.LAYERS:
        if not spark.catalog.databaseExists(layer):
            spark.sql(f"create database {layer}")
    return spark


def spark_home() -> Path:
    """The Spark installation that ships inside the pyspark package."""
    import pyspark

    return Path(pyspark.__file__).parent


def write_spark_defaults() -> Path:
    """Render the project configuration as the installed Spark's ``conf/spark-defaults.conf``.

    Anything that starts Spark from this environment without going through :func:`get_spark`
    (plain ``dbt`` on the ``session`` target, ``spark-submit``, the Thrift server) then reads the
    same warehouse and metastore.
    """
    conf_dir = Path(os.environ.get("SPARK_CONF_DIR", spark_home() / "conf"))
    conf_dir.mkdir(parents=True, exist_ok=True)
    target = conf_dir / "spark-defaults.conf"
    target.write_text(config.render_spark_defaults(config.spark_conf()))
    return target
