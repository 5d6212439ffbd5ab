"""What an incremental ``frontier build`` may leave out: the nodes none of whose inputs changed.

A day of transactions changes one source table; the customers, accounts, branches, regions and
loans snapshots and the seeds stay as they were, and so would every table built only from them
(the dimensions, ``fct_loans``, the BI tables on top) and every test on those. Rebuilding and
retesting them took ~5 s of a 10M incremental run's ~37 (two cores busy).

After a successful build of the whole project, :func:`record` writes what that build read to
``<warehouse>/last_build.json``:

- ``project``: one digest of everything besides the sources a node's result depends on: the
  project's files (models, macros, seeds, dbt tests, analyses, ``dbt_project.yml``, the
  profiles dbt reads: ``DBT_PROFILES_DIR`` or ``profiles/``), the ``frontier`` package and the
  Python UDFs, the versions of dbt and Spark, the dbt arguments, the ``FRONTIER_*`` and
  ``DBT_*`` environment (e.g. ``FRONTIER_BI_SALT``, read by the masking macro), today's date in
  Spark (``dim_customers`` ages customers as of today) and the files of ``ml.model_registry``
  (the scoring models call the champions' SQL functions);
- ``sources``: for each dbt source table, a digest of its Hive definition and of its files
  (path, size, modification time; local folders are walked directly, any other location is
  listed through Hadoop's FileSystem, so HDFS or S3 work too);
- the id of the dbt invocation that built it (``target/run_results.json``).

The next build without ``--select`` (:func:`changed_sources`) builds everything again when there
is no record, when the project digest differs, when another dbt invocation ran since (plain
``dbt build``, ``dbt run -s …`` or a failed run: the record cannot say what they did), or when
a source lives outside ``raw`` (only ``raw`` tables are digested);
otherwise it selects ``source:<name>+`` for the sources whose digest changed, and nothing when
none did. :func:`forget` removes the record when any build starts, so a build that fails or
builds only a selection leaves none behind.

The digests are taken before dbt starts: a source written during the build (the stream) shows as
changed on the next run. A record does not survive a change made behind dbt's back to a table
dbt builds (``frontier build --full-refresh`` rebuilds everything).
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from pyspark.sql import SparkSession

from frontier import config
from frontier.ml.registry import REGISTRY

# The project's folders and files whose content decides what dbt builds (dbt_project.yml's paths).
_PROJECT_PATH_KEYS = ("model-paths", "macro-paths", "seed-paths", "test-paths", "analysis-paths")
# Read by dbt, but different on every incremental run (frontier.dbt.BUILD_HINTS).
_VOLATILE_ENV = ("FRONTIER_VALIDATED_THROUGH", "FRONTIER_TEST_LOADED_AFTER")
# The digest of a source table that is not digested (outside ``raw``, or absent).
_NOT_DIGESTED = "missing"


def _record_path() -> Path:
    return config.paths().home / "last_build.json"


def forget() -> None:
    """Remove the record: until a whole-project build succeeds, the next one builds everything."""
    _record_path().unlink(missing_ok=True)


def snapshot(spark: SparkSession, dbt_args: list[str]) -> dict:
    """The digests of the project and of every table in ``raw``, as a build is about to read them.

    Every ``raw`` table is digested, not only the sources: which of them are dbt sources is known
    from dbt's manifest after the build (see :func:`record`).
    """
    tables = []
    if spark.catalog.databaseExists("raw"):
        listed = spark.sql("show tables in raw").collect()
        tables = [r.tableName for r in listed if not r.isTemporary]
    digests = {f"raw.{t}": _table_digest(spark, f"raw.{t}") for t in tables}
    for table in digests:
        # The session may hold an older listing of a table's files (up to 10 s, see config):
        # dbt must read the files digested here, not fewer.
        spark.catalog.refreshTable(table)
    return {"project": _project_digest(spark, dbt_args), "tables": digests}


def record(inputs: dict) -> None:
    """Keep ``inputs`` (from :func:`snapshot`) as what the whole-project build that just succeeded
    read: its source tables' digests and dbt's invocation id."""
    target = config.project_root() / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    sources = {}
    for source in manifest["sources"].values():
        relation = f"{source['schema']}.{source['identifier']}".lower()
        sources[f"{source['source_name']}.{source['name']}"] = {
            "relation": relation,
            "digest": inputs["tables"].get(relation, _NOT_DIGESTED),
        }
    path = _record_path()
    path.write_text(
        json.dumps(
            {
                "invocation_id": _last_invocation_id(),
                "project": inputs["project"],
                "sources": sources,
            },
            indent=2,
        )
    )


def changed_sources(inputs: dict) -> list[str] | None:
    """The sources (``<source>.<table>``) whose tables changed since the recorded build, or None
    when the whole project has to be built (no record, other code or settings, another dbt
    invocation since, a source that was not digested)."""
    path = _record_path()
    if not path.is_file():
        return None
    last = json.loads(path.read_text())
    if last["project"] != inputs["project"] or last["invocation_id"] != _last_invocation_id():
        return None
    if any(source["digest"] == _NOT_DIGESTED for source in last["sources"].values()):
        return None  # nothing tells whether such a source changed
    return sorted(
        name
        for name, source in last["sources"].items()
        if inputs["tables"].get(source["relation"], _NOT_DIGESTED) != source["digest"]
    )


def _last_invocation_id() -> str | None:
    path = config.project_root() / "target" / "run_results.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())["metadata"]["invocation_id"]


def _project_digest(spark: SparkSession, dbt_args: list[str]) -> str:
    import frontier

    root = config.project_root()
    project = config.dbt_project()
    roots = [root / p for key in _PROJECT_PATH_KEYS for p in project.get(key, [])]
    roots += [
        root / "dbt_project.yml",
        Path(os.environ.get("DBT_PROFILES_DIR") or root / "profiles").resolve(),
        root / "python" / "udfs",
        Path(frontier.__file__).parent,
    ]
    digest = hashlib.sha256()
    for path in roots:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                name = file.relative_to(root) if file.is_relative_to(root) else file
                digest.update(str(name).encode() + b"\0")
                digest.update(hashlib.sha256(file.read_bytes()).digest())
    settings = {
        "dbt": metadata.version("dbt-core"),
        "dbt_spark": metadata.version("dbt-spark"),
        "spark": spark.version,
        "args": dbt_args,
        "env": {
            k: v
            for k, v in sorted(os.environ.items())
            if k.startswith(("FRONTIER_", "DBT_")) and k not in _VOLATILE_ENV
        },
        "today": str(spark.sql("select current_date()").first()[0]),
        "registry": _table_digest(spark, REGISTRY) if spark.catalog.tableExists(REGISTRY) else "",
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def _table_digest(spark: SparkSession, table: str) -> str:
    """A digest of a table's definition in the metastore and of the files under its location."""
    jsession = spark._jsparkSession
    identifier = jsession.sessionState().sqlParser().parseTableIdentifier(table)
    definition = jsession.sessionState().catalog().getTableMetadata(identifier)
    digest = hashlib.sha256()
    for line in definition.toString().splitlines():
        if not line.startswith(("Last Access", "Statistics")):  # reads and ANALYZE change them
            digest.update(line.encode() + b"\n")
    if definition.tableType().name() == "VIEW":
        return digest.hexdigest()  # its text is in the definition; no files of its own
    location = definition.location()
    if location.getScheme() == "file":
        # Local files listed here: through py4j each file costs three calls (0.2 s at 10M).
        listed = [
            f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}"
            for path, stat in _local_files(Path(location.getPath()))
        ]
    else:
        jvm = spark.sparkContext._jvm
        path = jvm.org.apache.hadoop.fs.Path(location.toString())
        fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        listed = []
        if fs.exists(path):
            files = fs.listFiles(path, True)
            while files.hasNext():
                status = files.next()
                listed.append(
                    f"{status.getPath().toString()}\0{status.getLen()}\0"
                    f"{status.getModificationTime()}"
                )
    digest.update("\n".join(sorted(listed)).encode())
    return digest.hexdigest()


def _local_files(root: Path):
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            yield path, path.stat()
