"""Run dbt in-process, on the SparkSession of the ``frontier`` command.

dbt-spark's ``session`` method calls ``SparkSession.builder.getOrCreate()``; started after
:func:`frontier.spark.get_spark`, it reuses that session, so ``frontier build`` starts one JVM.
"""

from __future__ import annotations

import os

from frontier import config
from frontier.spark import get_spark


class DbtError(RuntimeError):
    pass


def run(args: list[str]) -> None:
    """Run ``dbt <args>`` against the project; raise DbtError when dbt reports a failure."""
    from dbt.cli.main import dbtRunner

    get_spark()
    root = config.project_root()
    os.environ.setdefault("DBT_PROFILES_DIR", str(root / "profiles"))
    cwd = os.getcwd()
    os.chdir(root)  # dbt resolves target/ and logs/ against the working directory
    try:
        result = dbtRunner().invoke([*args, "--project-dir", str(root)])
    finally:
        os.chdir(cwd)
    if not result.success:
        raise DbtError(f"dbt {' '.join(args)} failed: {_failures(result)}")


def _failures(result) -> str:
    """Name each failing node with dbt's message (for a test: how many rows failed)."""
    if result.exception is not None:
        return str(result.exception)
    failed = [
        f"{r.node.name} ({r.status}: {r.message})"
        for r in getattr(result.result, "results", [])
        if str(r.status) in ("error", "fail", "runtime error")
    ]
    return "; ".join(failed) or "see the dbt log above"
