"""Install compiled models as persistent functions in the metastore's ``ml`` database.

For a model ``m`` at version ``n``:

- ``ml.predict_m_vn(<features>)``: the class-1 probability (classifier) or prediction (regressor);
- ``ml.explain_m_vn(<features>)``: the top three features and their contributions;
- ``ml.predict_m`` / ``ml.explain_m``: the champion (see :func:`champion_statements`).

Predict functions call ``ml.tree_ensemble``, the Hive UDF of ``jvm/``; :func:`install` registers
it (a persistent function naming a class on the classpath: ``frontier.config`` puts the jar in
``spark.jars`` and on the driver's class path of every application).

Arguments come in the model's feature order, numbers as DOUBLE and categories as STRING;
``DESCRIBE FUNCTION ml.predict_m`` shows them.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import SparkSession

from udfs import compiler
from udfs.forest import Forest

DATABASE = "ml"


def name(kind: str, model_name: str, version: int | None = None) -> str:
    suffix = f"_v{version}" if version is not None else ""
    return f"{DATABASE}.{kind}_{model_name}{suffix}"


def statements(
    model_name: str,
    version: int,
    forest: Forest,
    arguments: Sequence[compiler.Argument],
    describe: str,
) -> list[str]:
    """The versioned functions of one trained model (nothing is executed here)."""
    output = "class-1 probability" if forest.is_classifier else "prediction"
    args = ", ".join(a.name for a in arguments)
    return [
        compiler.create_function(
            name("predict", model_name, version), arguments, "DOUBLE",
            compiler.predict_sql(forest, arguments),
            f"{describe} v{version}: {output} ({forest.algorithm}, {len(forest.trees)} trees). "
            f"Arguments: {args}. NULL arguments take the missing-value branch.",
        ),
        compiler.create_function(
            name("explain", model_name, version), arguments, compiler.EXPLAIN_TYPE,
            compiler.explain_sql(forest, arguments),
            f"{describe} v{version}: top 3 features by path contribution "
            f"({'probability' if forest.algorithm == 'rf' else 'margin'} units).",
        ),
    ]  # fmt: skip


def champion_statements(
    model_name: str,
    version: int,
    forest: Forest,
    arguments: Sequence[compiler.Argument],
    describe: str,
) -> list[str]:
    """Unversioned names for the champion: the predict function carries the champion's model
    itself (a forwarding call would make every query fetch and parse two function bodies); the
    explain function forwards to the versioned one."""
    call_args = ", ".join(a.name for a in arguments)
    comment = f"{describe}: the champion (v{version}). Arguments: {call_args}."
    return [
        compiler.create_function(
            name("predict", model_name), arguments, "DOUBLE",
            compiler.predict_sql(forest, arguments), comment,
        ),
        compiler.create_function(
            name("explain", model_name), arguments, compiler.EXPLAIN_TYPE,
            f"{name('explain', model_name, version)}({call_args})", comment,
        ),
    ]  # fmt: skip


def install(spark: SparkSession, sql: Sequence[str]) -> None:
    """Run the statements, after registering the evaluator they call (once per metastore)."""
    spark.sql(f"CREATE FUNCTION IF NOT EXISTS {compiler.EVALUATOR} AS '{compiler.EVALUATOR_CLASS}'")
    for statement in sql:
        spark.sql(statement)
