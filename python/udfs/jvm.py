"""Build the JVM half of the predict functions: ``frontier-udfs.jar`` from ``jvm/**/*.java``.

The jar holds ``frontier.udfs.TreeEnsemble``, the Hive UDF that ``ml.tree_ensemble`` names (see
``compiler.py``), and ``frontier.serve.SkipHiveBuiltinFunctions``, a driver plugin that
``frontier.serve`` gives the Thrift server (its docstring says why). :func:`jar` compiles them
with ``javac`` against the Hive, Hadoop and Spark jars that pyspark ships, the first time it is
asked for and whenever a source is newer than the jar, and ``frontier.config`` puts it on every
Spark application's classpath (``spark.jars``), so the Thrift server, dbt, the ML jobs and cluster
executors all load the same classes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCES = Path(__file__).resolve().parent / "jvm"
JAR = SOURCES / "build" / "frontier-udfs.jar"


def jar() -> Path:
    """The built jar, compiled first when it is missing or older than a source."""
    sources = sorted(SOURCES.rglob("*.java"))
    if JAR.is_file() and JAR.stat().st_mtime >= max(s.stat().st_mtime for s in sources):
        return JAR
    javac, jar_tool = shutil.which("javac"), shutil.which("jar")
    if not javac or not jar_tool:
        raise RuntimeError(
            "javac and jar not found: the predict functions need a Java 17+ JDK "
            "(Debian: apt-get install openjdk-17-jdk-headless; `make install` does it)"
        )
    import pyspark

    classpath = str(Path(pyspark.__file__).parent / "jars" / "*")
    JAR.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=JAR.parent) as work:
        classes = Path(work) / "classes"
        _run([javac, "--release", "17", "-nowarn", "-cp", classpath, "-d", str(classes)]
             + [str(s) for s in sources])  # fmt: skip
        built = Path(work) / JAR.name
        _run([jar_tool, "cf", str(built), "-C", str(classes), "."])
        os.replace(built, JAR)  # atomic: a concurrent reader sees the old jar or the new one
    return JAR


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed:\n{done.stderr.strip()}")
