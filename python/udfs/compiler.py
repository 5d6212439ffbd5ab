"""Compile a tree ensemble into persistent ``CREATE FUNCTION`` statements any SQL client can call.

Predict functions
-----------------
``predict_sql`` is a call of ``ml.tree_ensemble`` (the Hive UDF in
``jvm/frontier/udfs/TreeEnsemble.java``) with the whole ensemble as one constant string, the
:func:`model_text`, and the arguments as numbers (a category becomes its indexer position in a
``CASE``). The function body is a few tens of kilobytes of literal, which Spark's parser reads in
milliseconds; the UDF parses the trees once per JVM and walks them per row. The first version of
this module inlined every tree as nested ``IF`` expressions: as fast per row with whole-stage code
generation, but a query calling an 80-tree model spent 1-2 s parsing, analysing and optimising
the expression and more compiling it, every time — too slow for a dashboard (issue 4).

Explain functions
-----------------
``explain_sql`` still inlines the trees: each tree is an ``IF`` expression returning its leaf's
contribution vector. Explanations are asked for a handful of rows at a time (the loan scores
mart, a dashboard drill-down), where the planning cost does not matter.

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


EVALUATOR = "ml.tree_ensemble"
EVALUATOR_CLASS = "frontier.udfs.TreeEnsemble"


def model_text(forest: Forest) -> str:
    """The ensemble in the text ``TreeEnsemble.java`` reads (its class comment has the format).

    Leaves carry ``weight * value`` (GBT) or the value (RF), the same doubles MLlib adds up, so the
    UDF's sum equals MLlib's to the last bits.
    """
    tokens = [
        "frontier-trees", "1", forest.algorithm, "1" if forest.is_classifier else "0",
        str(forest.num_features), str(len(forest.trees)),
    ]  # fmt: skip
    for tree in forest.trees:
        weight = 1.0 if forest.algorithm == "rf" else tree.weight
        stack = [tree.root]
        while stack:  # pre-order: a split, its left subtree, then its right subtree
            node = tree.nodes[stack.pop()]
            if node.is_leaf:
                tokens += ["L", _number(weight * node.value)]
                continue
            if node.left_categories is None:
                tokens += ["C", str(node.feature), _number(node.threshold)]
            else:
                left = sorted(node.left_categories)
                tokens += ["K", str(node.feature), str(len(left)), *map(_number, left)]
            stack += [node.right, node.left]
    return " ".join(tokens)


def _number(value: float) -> str:
    return double(value)[:-1]  # repr round-trips through Java's Double.parseDouble


def _input(argument: Argument) -> str:
    """The argument as the number the model was trained on: a category becomes its index."""
    if argument.labels is None:
        return argument.name
    cases = " ".join(f"WHEN {string(label)} THEN {i}D" for i, label in enumerate(argument.labels))
    return f"CASE {argument.name} {cases} ELSE {len(argument.labels)}D END"


def predict_sql(forest: Forest, arguments: Sequence[Argument]) -> str:
    """Class-1 probability (classifier) or prediction (regressor), exactly as MLlib computes it."""
    _check(forest, arguments)
    inputs = ", ".join(_input(a) for a in arguments)
    return f"{EVALUATOR}({string(model_text(forest))}, {inputs})"


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
