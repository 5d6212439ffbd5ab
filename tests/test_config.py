"""One configuration: every entry point, from any working directory, reaches one warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from frontier import config


def test_paths_do_not_depend_on_the_working_directory(monkeypatch):
    monkeypatch.delenv("FRONTIER_WAREHOUSE", raising=False)
    root = config.project_root()
    seen = set()
    for folder in (root, root / "models" / "marts", Path("/")):
        monkeypatch.chdir(folder)
        seen.add(config.paths().home)
    assert seen == {root / ".warehouse"}


def test_spark_defaults_carry_absolute_warehouse_and_metastore(monkeypatch, tmp_path):
    monkeypatch.setenv("FRONTIER_WAREHOUSE", str(tmp_path / "wh"))
    monkeypatch.setenv("FRONTIER_METASTORE", "derby")
    conf = config.spark_conf()
    rendered = config.render_spark_defaults(conf)
    assert f"spark.sql.warehouse.dir {tmp_path / 'wh' / 'hive'}" in rendered
    assert f"databaseName={tmp_path / 'wh' / 'metastore_db'};create=true" in rendered
    assert conf["spark.master"] == "local[2]"
    assert os.path.isabs(conf["spark.sql.warehouse.dir"])


def test_each_metastore_mode_sets_every_connection_key(monkeypatch):
    # spark-defaults.conf keeps the other mode's keys: a key one mode left unset would leak in.
    keys = {}
    for mode in ("derby", "postgres"):
        monkeypatch.setenv("FRONTIER_METASTORE", mode)
        keys[mode] = {k for k in config.spark_conf() if ".javax.jdo.option." in k}
    assert keys["derby"] == keys["postgres"]
    monkeypatch.setenv("FRONTIER_METASTORE", "derby")
    assert config.spark_conf()["spark.hadoop.javax.jdo.option.ConnectionDriverName"] == (
        "org.apache.derby.jdbc.EmbeddedDriver"
    )


def test_master_and_memory_are_overridable(monkeypatch):
    monkeypatch.setenv("FRONTIER_SPARK_MASTER", "spark://127.0.0.1:7077")
    monkeypatch.setenv("FRONTIER_DRIVER_MEMORY", "2g")
    conf = config.spark_conf()
    assert conf["spark.master"] == "spark://127.0.0.1:7077"
    assert conf["spark.driver.memory"] == "2g"


def test_postgres_metastore_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("FRONTIER_METASTORE", "postgres")
    monkeypatch.setenv("FRONTIER_PG_DATABASE", "meta_x")
    monkeypatch.setenv("FRONTIER_PG_PORT", "5433")
    conf = config.spark_conf()
    assert conf["spark.hadoop.javax.jdo.option.ConnectionURL"] == (
        "jdbc:postgresql://127.0.0.1:5433/meta_x"
    )
    assert conf["spark.hadoop.datanucleus.schema.autoCreateConstraints"] == "false"
    assert conf["spark.hadoop.datanucleus.schema.autoCreateAll"] == "false"
    assert conf["spark.driver.extraClassPath"].endswith("postgresql.jar")
    monkeypatch.setenv("FRONTIER_METASTORE", "mysql")
    with pytest.raises(ValueError, match="derby or postgres"):
        config.spark_conf()


def test_thrift_server_binds_to_loopback_by_default(monkeypatch):
    monkeypatch.delenv("FRONTIER_THRIFT_HOST", raising=False)
    monkeypatch.delenv("FRONTIER_THRIFT_PORT", raising=False)
    assert config.thrift_server() == config.ThriftServer("127.0.0.1", 10000)


def test_dbt_tests_run_in_the_checks_pool_which_gets_cores_first():
    """frontier's dbt runs put test jobs in the `checks` pool, a pool with a minimum share."""
    import xml.etree.ElementTree as ET
    from types import SimpleNamespace

    from frontier import dbt

    class Context:
        pool = None
        description = None

        def setLocalProperty(self, key, value):  # noqa: N802 (SparkContext's name)
            assert key == "spark.scheduler.pool"
            self.pool = value

        def setJobDescription(self, value):  # noqa: N802
            self.description = value

    def event(name, resource_type):
        node = SimpleNamespace(resource_type=resource_type, unique_id=f"{resource_type}.frontier.x")
        info = SimpleNamespace(name=name)
        return SimpleNamespace(info=info, data=SimpleNamespace(node_info=node))

    context = Context()
    on_event = dbt._node_job_settings(context)
    on_event(event("NodeStart", "unit_test"))
    assert context.pool == "checks"
    assert context.description == "unit_test.frontier.x"
    on_event(event("NodeFinished", "model"))  # only a node's start moves its thread
    assert context.pool == "checks"
    on_event(event("NodeStart", "model"))
    assert context.pool == "default"
    on_event(event("NodeStart", "test"))
    assert context.pool == "checks"

    # Spark creates a pool the file does not name with minShare 0, which would take the
    # priority away silently.
    pools = ET.parse(config.project_root() / "conf" / "fairscheduler.xml").getroot()
    checks = {p.get("name"): p for p in pools.findall("pool")}["checks"]
    assert int(checks.findtext("minShare")) >= 1
