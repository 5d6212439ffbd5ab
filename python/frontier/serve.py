"""``frontier serve``: the Spark Thrift Server (HiveServer2 protocol) on the project's warehouse.

Started from the installed pyspark with ``spark-submit --class ...HiveThriftServer2`` and the
same configuration as every other entry point, in the background, with a pid file and a log under
``<warehouse>/run`` and ``<warehouse>/logs``. It returns once the port answers.

With the embedded Derby metastore the server holds the metastore's only connection: other
``frontier`` commands on the same warehouse wait until it stops. Set ``FRONTIER_METASTORE=postgres``
(``make metastore`` sets the database up) to run the server beside dbt, training and streaming.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from frontier import config
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


def _files() -> tuple[Path, Path]:
    p = config.paths()
    run_dir = p.home / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    p.logs.mkdir(parents=True, exist_ok=True)
    return run_dir / "thriftserver.pid", p.logs / "thriftserver.log"


def port_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process still "exists"; reap it if so.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def status(host: str | None = None, port: int | None = None) -> Status:
    server = config.thrift_server()
    host, port = host or server.host, port or server.port
    pid_file, log = _files()
    pid = int(pid_file.read_text()) if pid_file.exists() else None
    running = pid is not None and _alive(pid)
    return Status(pid, running, running and port_answers(host, port), host, port, log)


def command(host: str, port: int) -> list[str]:
    conf = config.spark_conf()
    conf["spark.app.name"] = "frontier-thriftserver"
    args = [str(spark_home() / "bin" / "spark-submit"), "--class", THRIFT_CLASS]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    args += [
        "--hiveconf", f"hive.server2.thrift.bind.host={host}",
        "--hiveconf", f"hive.server2.thrift.port={port}",
        "spark-internal",
    ]  # fmt: skip
    return args


def start(host: str | None = None, port: int | None = None, timeout_s: float = 180) -> Status:
    """Start the server in the background; return once it answers, raise if it does not."""
    current = status(host, port)
    if current.running:
        raise RuntimeError(f"the Thrift server is already {current.describe()}")
    if port_answers(current.host, current.port):
        raise RuntimeError(f"{current.host}:{current.port} is taken by another process")
    pid_file, log = _files()
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", SPARK_LOG_DIR=str(log.parent))
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command(current.host, current.port),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # survives the command that started it
        )
    pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file.unlink(missing_ok=True)
            raise RuntimeError(
                f"the Thrift server exited with code {process.returncode} while starting; "
                f"last lines of {log}:\n{_tail(log)}"
            )
        if port_answers(current.host, current.port):
            return status(current.host, current.port)
        time.sleep(1)
    stop()
    raise RuntimeError(
        f"the Thrift server did not answer on {current.host}:{current.port} within "
        f"{timeout_s:.0f}s; last lines of {log}:\n{_tail(log)}"
    )


def stop(timeout_s: float = 60) -> bool:
    """Stop the server (SIGTERM, then SIGKILL); False when it was not running."""
    pid_file, _ = _files()
    current = status()
    if not current.running or current.pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    os.killpg(current.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _alive(current.pid):
        time.sleep(0.5)
    if _alive(current.pid):
        os.killpg(current.pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True


def _tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
