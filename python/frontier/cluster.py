"""``frontier cluster up|down|status``: a Spark standalone cluster from the installed pyspark.

A master (``org.apache.spark.deploy.master.Master``) and N workers
(``org.apache.spark.deploy.worker.Worker``) started with ``bin/spark-class``, bound to loopback,
sharing this machine's cores between them. Every ``frontier`` command then runs there with
``frontier --master spark://127.0.0.1:7077 …`` (or ``FRONTIER_SPARK_MASTER``): the driver stays in
the command's process and the executors run in the workers, reading and writing the same
warehouse folders (on a real cluster: HDFS or object storage, see the README).
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from dataclasses import dataclass

from frontier import config, daemon
from frontier.spark import spark_home

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Cluster:
    url: str  # spark://host:port
    web_ui: str
    alive_workers: int
    cores: int
    memory_mb: int

    def describe(self) -> str:
        return (
            f"master {self.url}: {self.alive_workers} worker(s) alive, {self.cores} cores, "
            f"{self.memory_mb:,} MB (web UI {self.web_ui})"
        )


def _ports() -> tuple[int, int]:
    env = os.environ.get
    return int(env("FRONTIER_CLUSTER_PORT", "7077")), int(env("FRONTIER_CLUSTER_UI_PORT", "8080"))


def master_url() -> str:
    return f"spark://{HOST}:{_ports()[0]}"


def _spark_class(main_class: str, *args: str) -> list[str]:
    return [str(spark_home() / "bin" / "spark-class"), main_class, *args]


def status() -> Cluster | None:
    """What the master reports, or None when no master answers."""
    port, ui = _ports()
    if not daemon.port_answers(HOST, port):
        return None
    web_ui = f"http://{HOST}:{ui}"
    try:
        with urllib.request.urlopen(f"{web_ui}/json/", timeout=5) as response:
            state = json.load(response)
    except OSError:
        return Cluster(master_url(), web_ui, 0, 0, 0)
    return Cluster(
        master_url(), web_ui, state.get("aliveworkers", 0), state.get("cores", 0),
        state.get("memory", 0),
    )  # fmt: skip


def up(workers: int, worker_memory: str = "4g", timeout_s: float = 120) -> Cluster:
    """Start the master and ``workers`` workers; return once they are all registered."""
    if workers < 1:
        raise ValueError("a cluster needs at least one worker")
    running = status()
    if running is not None:
        raise RuntimeError(f"a cluster already runs: {running.describe()}")
    port, ui = _ports()
    cores = max(1, (os.cpu_count() or 2) // workers)  # share the machine, do not oversubscribe
    processes = {
        "cluster-master": daemon.launch(
            "cluster-master",
            _spark_class(
                MASTER_CLASS, "--host", HOST, "--port", str(port), "--webui-port", str(ui)
            ),
        )
    }
    _wait(lambda: daemon.port_answers(HOST, port), processes, timeout_s, "the master to listen")
    work = config.paths().home / "cluster"
    for i in range(1, workers + 1):
        name = f"cluster-worker-{i}"
        processes[name] = daemon.launch(
            name,
            _spark_class(
                WORKER_CLASS,
                master_url(),
                "--host",
                HOST,
                "--cores",
                str(cores),
                "--memory",
                worker_memory,
                "--webui-port",
                "0",
                "--work-dir",
                str(work / name),
            ),  # fmt: skip
        )

    def registered() -> bool:
        current = status()
        return current is not None and current.alive_workers >= workers

    _wait(registered, processes, timeout_s, f"{workers} worker(s) to register")
    return status()


def _wait(ready, processes: dict, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                down()
                log = daemon.files(name)[1]
                raise RuntimeError(
                    f"{name} exited with code {process.returncode} while waiting for {what}; "
                    f"last lines of {log}:\n{daemon.tail(log)}"
                )
        if ready():
            return
        time.sleep(0.5)
    down()
    raise RuntimeError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def down() -> int:
    """Stop the workers, then the master; how many processes were stopped."""
    run_dir = daemon.files("cluster-master")[0].parent
    names = sorted(p.stem for p in run_dir.glob("cluster-worker-*.pid"))
    return sum(daemon.stop(name) for name in [*names, "cluster-master"])
