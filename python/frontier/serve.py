"""``frontier serve``: the Spark Thrift Server (HiveServer2 protocol) on the project's warehouse.

Started from the installed pyspark with ``spark-submit --class ...HiveThriftServer2`` and the
same configuration as every other entry point, in the background, with a pid file and a log under
``<warehouse>/run`` and ``<warehouse>/logs``. It returns once the port answers.

With the embedded Derby metastore the server holds the metastore's only connection: other
``frontier`` commands on the same warehouse wait until it stops. Set ``FRONTIER_METASTORE=postgres``
(``make metastore`` sets the database up) to run the server beside dbt, training and streaming.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from frontier import config, daemon
from frontier.spark import spark_home

THRIFT_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


@dataclass(frozen=True)
class Status:
    pid: int | None
    running: bool
    answering: bool
    host: str
    port: int
    log: Path

    def describe(self) -> str:
        if not self.running:
            return f"not running (log: {self.log})"
        state = "answering" if self.answering else "starting, not answering yet"
        return f"running, pid {self.pid}, {state} on {self.host}:{self.port} (log: {self.log})"


NAME = "thriftserver"


def status(host: str | None = None, port: int | None = None) -> Status:
    server = config.thrift_server()
    host, port = host or server.host, port or server.port
    pid = daemon.running_pid(NAME)
    _, log = daemon.files(NAME)
    running = pid is not None
    return Status(pid, running, running and daemon.port_answers(host, port), host, port, log)


def command(host: str, port: int) -> list[str]:
    conf = config.spark_conf() | config.serving_conf()
    conf["spark.app.name"] = "frontier-thriftserver"
    # Without it, sessions closing at once could kill a connection and then hang every later
    # close: python/udfs/jvm/frontier/serve/SkipHiveBuiltinFunctions.java says why.
    conf["spark.plugins"] = "frontier.serve.SkipHiveBuiltinFunctions"
    args = [str(spark_home() / "bin" / "spark-submit"), "--class", THRIFT_CLASS]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    args += [
        "--hiveconf", f"hive.server2.thrift.bind.host={host}",
        "--hiveconf", f"hive.server2.thrift.port={port}",
        # No authentication is configured, so impersonating the user name a client sends means
        # nothing; and with impersonation on, every metastore call from a session whose user
        # differs from the previous caller's closed the shared Hive client and built a new
        # metastore connection (a HiveConf parsed from XML each time): a quarter of the CPU of
        # small queries from eight clients. Behind Kerberos, turn it back on.
        "--hiveconf", "hive.server2.enable.doAs=false",
        "spark-internal",
    ]  # fmt: skip
    return args


def start(host: str | None = None, port: int | None = None, timeout_s: float = 180) -> Status:
    """Start the server in the background; return once it answers, raise if it does not."""
    current = status(host, port)
    if current.running:
        raise RuntimeError(f"the Thrift server is already {current.describe()}")
    if daemon.port_answers(current.host, current.port):
        raise RuntimeError(f"{current.host}:{current.port} is taken by another process")
    process = daemon.launch(NAME, command(current.host, current.port))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            daemon.files(NAME)[0].unlink(missing_ok=True)
            raise RuntimeError(
                f"the Thrift server exited with code {process.returncode} while starting; "
                f"last lines of {current.log}:\n{daemon.tail(current.log)}"
            )
        if daemon.port_answers(current.host, current.port):
            return status(current.host, current.port)
        time.sleep(1)
    stop()
    raise RuntimeError(
        f"the Thrift server did not answer on {current.host}:{current.port} within "
        f"{timeout_s:.0f}s; last lines of {current.log}:\n{daemon.tail(current.log)}"
    )


def stop(timeout_s: float = 60) -> bool:
    """Stop the server (SIGTERM, then SIGKILL); False when it was not running."""
    return daemon.stop(NAME, timeout_s)
