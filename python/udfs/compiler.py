"""Compile a tree ensemble into Spark SQL expressions and persistent ``CREATE FUNCTION`` statements.

The functions are plain SQL (``RETURNS DOUBLE RETURN <expression>``), stored in the Hive metastore
and inlined by Spark's analyzer wherever they are called, so Thrift clients, beeline and dbt score
rows with no Python and no session-local UDF.

Keeping whole-stage code generation
-----------------------------------
Written as one sum of nested ``IF``\\ s, a 50-tree depth-5 ensemble generates more than 64 KB of
Java in one method; Janino refuses it ("Code grows beyond 64 KB"), Spark disables whole-stage
codegen for the stage and scoring slows down several times. Whole-stage codegen does not split
expressions into methods, with one exception: common subexpression elimination hoists each
expression that occurs twice into its own small method. So every tree is written twice, as
``(t + t)``, and the sum is halved: ``0.5 * sum(t_i + t_i)`` equals ``sum(t_i)`` bit for bit
(doubling and halving are exact in binary floating point), and each tree becomes one method the
JIT compiles. See ``frontier bench predict`` for the figures.

NULL arguments
--------------
A NULL (or NaN) argument fails every comparison, so the row takes the right branch at each split
on that feature: the same route MLlib takes for the NaN that ``VectorAssembler(handleInvalid=
"keep")`` puts in the vector. Predict functions therefore always return a number for NULL inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from udfs.forest import Forest, Node, Tree


@dataclass(frozen=True)
class Argument:
    """One function argument, in vector order: a number, or a category with its indexer labels.

    ``labels`` are the ``StringIndexerModel`` labels (index = position); any other value, NULL
    included, gets index ``len(labels)``, as ``handleInvalid="keep"`` does.
    """

    name: str
    labels: tuple[str, ...] | None = None

    @property
    def sql_type(self) -> str:
        return "DOUBLE" if self.labels is None else "STRING"


def double(value: float) -> str:
    """An exact Spark SQL double literal (``repr`` round-trips; bare decimals would be DECIMAL)."""
    text = repr(float(value))
    if text in ("nan", "inf", "-inf"):
        raise ValueError(f"cannot compile the non-finite constant {text}")
    return f"{text}D"


def string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def condition(node: Node, argument: Argument) -> str:
    """SQL that is true exactly when MLlib sends the row to the left child."""
    if node.left_categories is None:
        return f"{argument.name} <= {double(node.threshold)}"
    labels = argument.labels or ()
    left = {int(c) for c in node.left_categories}
    if len(labels) not in left:  # unseen values and NULL go right
        chosen = [string(labels[i]) for i in sorted(left) if i < len(labels)]
        return f"{argument.name} IN ({', '.join(chosen)})" if chosen else "false"
    others = [string(label) for i, label in enumerate(labels) if i not in left]
    return f"NOT coalesce({argument.name} IN ({', '.join(others)}), false)" if others else "true"


def tree_sql(tree: Tree, arguments: Sequence[Argument], leaf: Callable[[int], str]) -> str:
    """Nested ``IF`` expression of one tree; ``leaf(node_id)`` renders what a leaf returns."""

    def walk(node_id: int) -> str:
        node = tree.nodes[node_id]
        if node.is_leaf:
            return leaf(node_id)
        test = condition(node, arguments[node.feature])
        return f"IF({test}, {walk(node.left)}, {walk(node.right)})"

    return walk(tree.root)


def _check(forest: Forest, arguments: Sequence[Argument]) -> None:
    if len(arguments) != forest.num_features:
        raise ValueError(
            f"the model has {forest.num_features} features, {len(arguments)} arguments given"
        )


def raw_sql(forest: Forest, arguments: Sequence[Argument]) -> str:
    """The mean of the leaves (RF) or the weighted margin (GBT), as one SQL expression."""
    _check(forest, arguments)
    terms = []
    for tree in forest.trees:
        weight = 1.0 if forest.algorithm == "rf" else tree.weight
        body = tree_sql(tree, arguments, lambda i, t=tree, w=weight: double(w * t.nodes[i].value))
        terms.append(f"({body} + {body})")  # twice on purpose: see the module docstring
    total = f"0.5D * ({' + '.join(terms)})"
    return f"{total} / {double(len(forest.trees))}" if forest.algorithm == "rf" else total


def predict_sql(forest: Forest, arguments: Sequence[Argument]) -> str:
    """Class-1 probability (classifier) or prediction (regressor), exactly as MLlib computes it."""
    raw = raw_sql(forest, arguments)
    if forest.algorithm == "gbt" and forest.is_classifier:
        return f"1.0D / (1.0D + exp(-2.0D * ({raw})))"
    return raw


def explain_sql(forest: Forest, arguments: Sequence[Argument], top: int = 3) -> str:
    """The ``top`` features by absolute path contribution: ``array<struct<feature, contribution>>``.

    Contributions follow each tree's path to the row's leaf: every split adds
    ``value(child) - value(parent)`` to its feature, computed here at compile time for each leaf
    (rounded to 6 significant digits, the sums to 6 decimals). Each tree returns its leaf's
    contribution vector, the vectors are summed, and the largest ``top`` by absolute value are
    returned. They are in the units of :func:`raw_sql` (probability for RF, margin for GBT) and
    add up, with the root values, to the raw prediction.
    """
    _check(forest, arguments)
    used = sorted({n.feature for t in forest.trees for n in t.nodes.values() if not n.is_leaf})
    if not used:
        return "array()"
    vectors = []
    for tree in forest.trees:
        factor = 1.0 / len(forest.trees) if forest.algorithm == "rf" else tree.weight
        contributions = tree.leaf_contributions(forest.num_features)

        def vector(leaf: int, c=contributions, k=factor) -> str:
            return "array(" + ", ".join(_short(c[leaf][f] * k) for f in used) + ")"

        vectors.append(tree_sql(tree, arguments, vector))
    summed = (
        f"aggregate(array({', '.join(vectors)}), array_repeat(0D, {len(used)}), "
        "(acc, v) -> zip_with(acc, v, (x, y) -> x + y))"
    )
    names = ", ".join(string(arguments[f].name) for f in used)
    pairs = (
        f"zip_with(array({names}), {summed}, "
        "(n, c) -> named_struct('feature', n, 'contribution', round(c, 6)))"
    )
    order = (
        "(a, b) -> CASE WHEN abs(a.contribution) > abs(b.contribution) THEN -1 "
        "WHEN abs(a.contribution) < abs(b.contribution) THEN 1 ELSE 0 END"
    )
    return f"slice(array_sort({pairs}, {order}), 1, {top})"


def _short(value: float) -> str:
    return "0D" if value == 0 else f"{float(f'{value:.6g}')!r}D"


# Spark stores a SQL function's definition in the metastore in at most 999 chunks of 4000
# characters; stay clear of that with room for the JSON escaping around the body.
MAX_STATEMENT_CHARS = 3_500_000


def create_function(
    name: str, arguments: Sequence[Argument], returns: str, body: str, comment: str
) -> str:
    params = ", ".join(f"{a.name} {a.sql_type}" for a in arguments)
    statement = (
        f"CREATE OR REPLACE FUNCTION {name}({params})\nRETURNS {returns}\n"
        f"COMMENT {string(comment)}\nRETURN {body}"
    )
    if len(statement) > MAX_STATEMENT_CHARS:
        raise ValueError(
            f"{name} would be {len(statement) / 1e6:.1f} MB of SQL, more than the metastore "
            f"keeps for a function ({MAX_STATEMENT_CHARS / 1e6:.1f} MB): declare fewer trees "
            "or a smaller maxDepth"
        )
    return statement


EXPLAIN_TYPE = "ARRAY<STRUCT<feature: STRING, contribution: DOUBLE>>"
