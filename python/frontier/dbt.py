"""Run dbt in-process, on the SparkSession of the ``frontier`` command.

dbt-spark's ``session`` method calls ``SparkSession.builder.getOrCreate()``; started after
:func:`frontier.spark.get_spark`, it reuses that session, so ``frontier build`` starts one JVM.
"""

from __future__ import annotations

import json
import os
import sys

from frontier import build_inputs, config
from frontier.spark import get_spark

# What the previous build loaded: the last core batch validated (the partition column of the
# first table) and the last load of the facts (the second: a few rows per load). Asking the
# facts themselves opened every day's file.
VALIDATED_BATCHES = "intermediate.int_transactions_validated"
FACT_LOADS = "marts.fct_transaction_loads"


class DbtError(RuntimeError):
    pass


# Values `frontier build` hands one dbt invocation (the macro build_hint reads them).
BUILD_HINTS = ("validated_through", "test_loaded_after")


def run(args: list[str], hints: dict | None = None) -> None:
    """Run ``dbt <args>`` against the project; raise DbtError when dbt reports a failure.

    ``core_source`` (which core banking system the marts read, see config.core_source) is always
    passed, with the core source's own settings from dbt_project.yml's ``core_sources``.
    ``hints`` (names from BUILD_HINTS) go in environment variables ``FRONTIER_<NAME>``, and the
    ones not given are unset: --vars that change from run to run make dbt parse the whole
    project again (~2 s of CPU); the hints are read at execution only, so nothing is re-parsed.
    """
    from dbt.cli.main import dbtRunner

    spark_context = get_spark().sparkContext
    args = [*args, "--vars", _vars()]
    unknown = set(hints or {}) - set(BUILD_HINTS)
    if unknown:
        raise ValueError(f"unknown build hints {sorted(unknown)}; known: {BUILD_HINTS}")
    for name in BUILD_HINTS:
        value = (hints or {}).get(name)
        if value is None:
            os.environ.pop(f"FRONTIER_{name.upper()}", None)
        else:
            os.environ[f"FRONTIER_{name.upper()}"] = str(value)
    root = config.project_root()
    _use_project_profiles()
    cwd = os.getcwd()
    os.chdir(root)  # dbt resolves target/ and logs/ against the working directory
    try:
        runner = dbtRunner(callbacks=[_node_job_settings(spark_context)])
        result = runner.invoke([*args, "--project-dir", str(root)])
    finally:
        os.chdir(cwd)
    if not result.success:
        raise DbtError(f"dbt {' '.join(args)} failed: {_failures(result)}")


def _use_project_profiles() -> None:
    """dbt reads the project's ``profiles/`` unless ``DBT_PROFILES_DIR`` names another folder."""
    os.environ.setdefault("DBT_PROFILES_DIR", str(config.project_root() / "profiles"))


def _vars() -> str:
    """The dbt vars of every run: the core source and its settings (see run)."""
    source = config.core_source()
    settings = config.dbt_var("core_sources").get(source) or {}
    return json.dumps({"core_source": source, **settings})


def _node_job_settings(spark_context):
    """A dbt callback that labels each node's Spark jobs and runs them in its kind's pool.

    The label is the thread's job description, set to the node's id, so the Spark UI and the
    event log (`frontier profile`) say which dbt node each query belongs to.

    dbt starts a node with the NodeStart event, fired in the worker thread that then runs the
    node's SQL; a scheduler pool set on that thread holds for its jobs. Tests (data and unit) go
    to the ``checks`` pool (conf/fairscheduler.xml), which gets the next free core before any
    model: a test reads one table or a few fixture rows, and every model downstream waits for it.
    Without the pool a unit test's few-row query waited 35-110 s for cores behind the long tasks
    of the models running beside it (10M bench, full build).
    """

    def on_event(msg) -> None:
        if msg.info.name == "NodeStart":
            node = msg.data.node_info
            pool = "checks" if node.resource_type in ("test", "unit_test") else "default"
            spark_context.setLocalProperty("spark.scheduler.pool", pool)
            # The Spark UI and event log then name each query's dbt node (not dbt's call site).
            spark_context.setJobDescription(node.unique_id)

    return on_event


def build(full_refresh: bool = False, select: str | None = None) -> None:
    """``dbt build``: everything on a full refresh; on an incremental run, what is new.

    An incremental run hands over the last validated core batch and ``loaded_at`` as the build
    hints ``validated_through`` / ``test_loaded_after`` (see run): the data tests of
    batch-tracked models check the rows this run added (see
    macros/warehouse/get_where_subquery.sql), and the models' high-water marks look first at or
    above that batch (high_water_mark's ``at_least``). It leaves out dbt unit tests, which test
    logic, not data (they run with every full build and in CI).
    A build without ``select`` after a successful whole-project build, with the same code and
    settings, builds only what depends on the sources that changed since, and nothing when none
    did (:mod:`frontier.build_inputs`).
    The stream's tables are sources, so they are created (empty) when the stream has not run.
    """
    from frontier.stream import job

    spark = get_spark()
    job.ensure_tables(spark)
    args = ["build"]
    if select:
        args += ["--select", select]
    elif not _has_champions():
        # Models tagged `ml` score with trained models' SQL functions: build them after training.
        args += ["--exclude", "tag:ml"]
    # What this build reads, to compare with the last whole-project build (build_inputs); the
    # DBT_* environment is part of it, so set it as run() will.
    _use_project_profiles()
    inputs = None if select else build_inputs.snapshot(spark, [*args, "--vars", _vars()])
    changed = None if full_refresh or inputs is None else build_inputs.changed_sources(inputs)
    if changed == []:
        print(
            "[frontier] no source, code or setting changed since the last build: nothing to "
            "build (`frontier build --full-refresh` rebuilds everything)",
            file=sys.stderr,
            flush=True,
        )
        return
    build_inputs.forget()
    loaded_through = None if full_refresh else _loaded_through()
    hints = None
    if full_refresh:
        args.append("--full-refresh")
    elif loaded_through:
        validated_through, loaded_after = loaded_through
        hints = {"validated_through": validated_through, "test_loaded_after": loaded_after}
        args += ["--exclude-resource-type", "unit_test"]
    if changed:
        print(
            f"[frontier] changed since the last build: {', '.join(changed)}; building what "
            "depends on them (`frontier build --full-refresh` rebuilds everything)",
            file=sys.stderr,
            flush=True,
        )
        args += ["--select", " ".join(f"source:{name}+" for name in changed)]
    run(args, hints=hints)
    if inputs is not None:
        build_inputs.record(inputs)


def _has_champions() -> bool:
    """Whether every declared model has a champion (models tagged ``ml`` call their functions)."""
    from frontier.ml import declarations

    spark = get_spark()
    if not spark.catalog.tableExists("ml.model_registry"):
        return False
    names = {d.name for d in declarations.with_tables(spark, declarations.load_all(), report=False)}
    found = spark.table("ml.model_registry").where("status = 'champion'").select("model_name")
    return names <= {r.model_name for r in found.collect()}


def _loaded_through() -> tuple[str, str] | None:
    """The last core batch validated and the last ``loaded_at`` of the facts (None: none yet).

    The batch is a partition column: with Spark's metadata-only optimisation its maximum comes
    from the partition folders instead of every batch's file. The optimisation is off by default
    and stays off elsewhere: it answers wrongly for a partition holding only empty files, and
    for aggregates of ``input_file_name()`` (measured: one distinct file for a whole table). It
    is switched on for this one query, before dbt starts any thread.
    """
    spark = get_spark()
    if not (spark.catalog.tableExists(VALIDATED_BATCHES) and spark.catalog.tableExists(FACT_LOADS)):
        return None
    spark.conf.set("spark.sql.optimizer.metadataOnly", "true")
    try:
        batches_after = spark.sql(f"select max(batch_date) from {VALIDATED_BATCHES}").first()[0]
    finally:
        spark.conf.unset("spark.sql.optimizer.metadataOnly")
    loaded_after = spark.sql(f"select cast(max(loaded_at) as string) from {FACT_LOADS}").first()[0]
    if batches_after is None or loaded_after is None:
        return None
    return batches_after, loaded_after


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
