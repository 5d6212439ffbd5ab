"""The Spark Thrift Server on the shared metastore, reached by real clients: pyhive and beeline.

Needs the PostgreSQL metastore (FRONTIER_METASTORE=postgres, as CI runs the suite): with the
embedded Derby metastore the suite's own session holds the only connection.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest
from pyhive import hive

from frontier import bench, cli, config, dbt, serve
from frontier.spark import spark_home

pytestmark = pytest.mark.skipif(
    config.metastore_mode() != "postgres",
    reason="needs FRONTIER_METASTORE=postgres (make metastore); CI runs the suite that way",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(spark, trained):
    """A running Thrift server on the suite's warehouse, with a loan_default champion to call."""
    os.environ["FRONTIER_THRIFT_PORT"] = str(_free_port())
    status = serve.start()
    yield status
    serve.stop()


def _query(status: serve.Status, sql: str) -> list[tuple]:
    with hive.connect(host=status.host, port=status.port, username="tester") as conn:
        cursor = conn.cursor()
        cursor.execute(sql)
        return cursor.fetchall()


def _predict_call(spark) -> str:
    features = (
        spark.sql(
            "select features from ml.model_registry "
            "where model_name = 'loan_default' and status = 'champion'"
        )
        .first()
        .features
    )
    return f"ml.predict_loan_default({', '.join(features)})"


def test_pyhive_lists_layers_queries_marts_and_calls_predict(spark, server):
    databases = {row[0] for row in _query(server, "show databases")}
    assert set(config.LAYERS) <= databases
    count = _query(server, "select count(*) from marts.fct_transactions")[0][0]
    assert count == spark.table("marts.fct_transactions").count() > 0
    scores = _query(server, f"select {_predict_call(spark)} as p from features.feat_loan_default")
    assert len(scores) == spark.table("features.feat_loan_default").count()
    assert all(0 <= p <= 1 for (p,) in scores)


def test_bad_queries_fail_for_their_client_only(server):
    with pytest.raises(Exception, match="(?i)table or view.*not found|TABLE_OR_VIEW_NOT_FOUND"):
        _query(server, "select * from marts.no_such_table")
    with pytest.raises(Exception, match="(?i)syntax|PARSE_SYNTAX_ERROR"):
        _query(server, "selec nothing frm")
    assert _query(server, "select 1")[0][0] == 1  # the server carries on
    assert serve.status().answering


def test_beeline_sees_masked_bi_views(server):
    beeline = spark_home() / "bin" / "beeline"
    result = subprocess.run(
        [str(beeline), "-u", f"jdbc:hive2://{server.host}:{server.port}/default",
         "--silent=true", "--outputformat=csv2", "-e",
         "select customer_name_masked, age_band from bi.bi_customers limit 5"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if line and "customer_name" not in line]
    assert len(rows) == 5
    assert all(re.match(r"^([A-Z]\*\*\* ?)+,", row) for row in rows), rows


def test_dashboards_get_serving_settings_and_a_build_session_its_own(server):
    def settings(configuration: dict[str, str] | None) -> dict[str, str]:
        with hive.connect(
            host=server.host, port=server.port, username="t", configuration=configuration
        ) as conn:
            cursor = conn.cursor()
            cursor.execute("set")
            return dict(cursor.fetchall())

    dashboard = settings(None)
    assert dashboard["spark.sql.shuffle.partitions"] == "1"
    assert dashboard["spark.sql.adaptive.enabled"] == "false"
    # What profiles/profiles.yml's server target sends: it reaches that session only.
    build = settings({"set:hiveconf:spark.sql.adaptive.enabled": "true"})
    assert build["spark.sql.adaptive.enabled"] == "true"
    assert settings(None)["spark.sql.adaptive.enabled"] == "false"


def test_bench_dashboard_queries_answer_over_thrift(spark, server):
    last = spark.sql("select max(volume_date) from marts.fct_daily_volume").first()[0]
    customer = spark.sql(
        "select cast(customer_id as bigint) from bi.bi_customer_recent_transactions limit 1"
    ).first()[0]
    predict = _predict_call(spark)
    answers = {
        name: _query(server, sql.format(last=last, customer_id=customer, predict=predict))
        for name, sql in bench.BI_QUERIES.items()
    }
    assert all(answers.values()), {name: len(rows) for name, rows in answers.items()}
    # The top-merchants query's partition filter (transaction_month) prunes, it does not change
    # the answer: the same query filtered on transaction_date alone returns the same rows.
    merchants = bench.BI_QUERIES["top_merchants_30d"].format(last=last)
    by_date_only = "\n".join(
        line for line in merchants.splitlines() if "transaction_month" not in line
    )
    assert by_date_only != merchants
    assert answers["top_merchants_30d"] == _query(server, by_date_only)


def test_sessions_closing_at_once_all_close(server):
    """dbt's threads and BI tools close sessions at once. In pyspark 4 such a close could build
    Hive's function registry, which cannot load there: the connection died ("TSocket read 0
    bytes") and every later close that needed it hung (frontier.serve.SkipHiveBuiltinFunctions
    says why). Sessions that alternate a metastore setting made it happen within seconds."""
    logged_before = server.log.stat().st_size
    deadline = time.monotonic() + 10
    closed: list[int] = []
    failures: list[str] = []

    def client(index: int) -> None:
        rounds = 0
        while time.monotonic() < deadline and not failures:
            rounds += 1
            setting = {"set:hiveconf:hive.metastore.client.socket.timeout": f"{600 + rounds % 2}s"}
            try:
                with hive.connect(
                    host=server.host, port=server.port, username=f"closer{index}",
                    configuration=setting,
                ) as conn:  # fmt: skip
                    cursor = conn.cursor()
                    cursor.execute("show tables in marts")
                    cursor.fetchall()
                    cursor.close()
                closed.append(index)
            except Exception as exc:  # reported by the assertion below
                failures.append(f"client {index}, session {rounds}: {exc!r}")

    # Daemon threads: a close that hangs fails the test instead of keeping pytest alive.
    clients = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(8)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=120)
    assert not [t for t in clients if t.is_alive()], "a session close hung"
    assert not failures, failures[:3]
    assert len(closed) >= 16, closed
    logged = server.log.read_bytes()[logged_before:].decode(errors="replace")
    assert "NoClassDefFoundError" not in logged


def test_dbt_builds_over_thrift(server):
    dbt.run(["build", "--target", "server", "--select", "bi"])


def test_restart_after_sigkill_keeps_tables_and_functions(spark, server):
    assert cli.main(["serve", "--status"]) == 0
    pid = serve.status().pid
    os.killpg(pid, signal.SIGKILL)  # no clean shutdown
    serve.stop()  # reaps the pid file
    assert not serve.status().running
    restarted = serve.start()
    assert _query(restarted, "select count(*) from bi.bi_accounts")[0][0] > 0
    (p,) = _query(restarted, f"select {_predict_call(spark)} from features.feat_loan_default")[0]
    assert 0 <= p <= 1
