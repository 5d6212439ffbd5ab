"""Background Spark processes the ``frontier`` command starts and stops: the Thrift server and
the standalone cluster's master and workers.

Each runs in its own session (it outlives the command that started it) with a pid file under
``<warehouse>/run`` and a log under ``<warehouse>/logs``; stopping sends SIGTERM to the process
group, then SIGKILL if it has not gone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from frontier import config


def files(name: str) -> tuple[Path, Path]:
    """The pid file and the log of the process called ``name``."""
    p = config.paths()
    run_dir = p.home / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    p.logs.mkdir(parents=True, exist_ok=True)
    return run_dir / f"{name}.pid", p.logs / f"{name}.log"


def port_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def alive(pid: int) -> bool:
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


def running_pid(name: str) -> int | None:
    """The pid of ``name`` when it runs, else None."""
    pid_file, _ = files(name)
    pid = int(pid_file.read_text()) if pid_file.exists() else None
    return pid if pid is not None and alive(pid) else None


def launch(name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``command`` in the background, logging to the log of ``name``; write its pid file."""
    pid_file, log = files(name)
    full_env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", SPARK_LOG_DIR=str(log.parent))
    full_env.update(env or {})
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=full_env,
            start_new_session=True,  # survives the command that started it
        )
    pid_file.write_text(str(process.pid))
    return process


def stop(name: str, timeout_s: float = 60) -> bool:
    """Stop ``name`` (SIGTERM, then SIGKILL); False when it was not running."""
    pid_file, _ = files(name)
    pid = running_pid(name)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.5)
    if alive(pid):
        os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True


def tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
