"""Tree ensembles read from a saved Spark MLlib model, scored in plain Python.

The saved model (``model.write().save(path)``) is the source of truth: its ``data/`` parquet holds
every node (split feature, threshold or left categories, children, prediction, class counts) and
``treesMetadata/`` the tree weights. Reading the files with pyarrow needs no Spark session, so the
compiler works from any saved version of a model.

MLlib's semantics, mirrored here and by the SQL compiler:

- a continuous split sends a row left when ``value <= threshold``; a categorical split when the
  category index is in the left set. A missing value (NULL in SQL, NaN in the vector that
  ``VectorAssembler(handleInvalid="keep")`` builds) never satisfies the test, so it goes right;
- random forests average the trees: class-1 probability is the mean over trees of each leaf's
  class-1 share (its class counts normalised), regression the mean leaf prediction;
- gradient-boosted trees sum ``weight * leaf prediction`` into a margin; the classifier's
  class-1 probability is ``1 / (1 + exp(-2 * margin))`` (logistic loss).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

KINDS = {
    "org.apache.spark.ml.classification.RandomForestClassificationModel": ("rf", True),
    "org.apache.spark.ml.classification.GBTClassificationModel": ("gbt", True),
    "org.apache.spark.ml.regression.RandomForestRegressionModel": ("rf", False),
    "org.apache.spark.ml.regression.GBTRegressionModel": ("gbt", False),
}


@dataclass(frozen=True)
class Node:
    """One tree node. ``feature == -1`` marks a leaf."""

    feature: int
    threshold: float
    left_categories: frozenset[float] | None
    left: int
    right: int
    value: float  # leaf output: class-1 share (RF classifier) or prediction

    @property
    def is_leaf(self) -> bool:
        return self.feature < 0

    def goes_left(self, x: float | None) -> bool:
        if x is None or math.isnan(x):
            return False
        if self.left_categories is not None:
            return x in self.left_categories
        return x <= self.threshold


@dataclass(frozen=True)
class Tree:
    nodes: Mapping[int, Node]
    weight: float = 1.0
    root: int = 0

    def leaf(self, row: Sequence[float | None]) -> int:
        """Id of the leaf the row lands in."""
        node_id = self.root
        node = self.nodes[node_id]
        while not node.is_leaf:
            node_id = node.left if node.goes_left(row[node.feature]) else node.right
            node = self.nodes[node_id]
        return node_id

    def leaf_contributions(self, num_features: int) -> dict[int, list[float]]:
        """For every leaf, its per-feature contributions along the path from the root.

        Each split on the way adds ``value(child) - value(parent)`` to its feature, so the root
        value plus a leaf's contributions is the leaf value. Leaves come in left-to-right order.
        """
        out: dict[int, list[float]] = {}
        stack = [(self.root, [0.0] * num_features)]
        while stack:
            node_id, contributions = stack.pop()
            node = self.nodes[node_id]
            if node.is_leaf:
                out[node_id] = contributions
                continue
            for child in (node.right, node.left):  # left popped first
                step = list(contributions)
                step[node.feature] += self.nodes[child].value - node.value
                stack.append((child, step))
        return out


@dataclass(frozen=True)
class Forest:
    """A trained ensemble: ``algorithm`` is ``rf`` or ``gbt``."""

    algorithm: str
    is_classifier: bool
    trees: tuple[Tree, ...]
    num_features: int

    @property
    def bias(self) -> float:
        """Output before any split: the root values, combined as the ensemble combines leaves."""
        roots = [t.weight * t.nodes[t.root].value for t in self.trees]
        return sum(roots) / len(self.trees) if self.algorithm == "rf" else sum(roots)

    def raw(self, row: Sequence[float | None]) -> float:
        """Mean of the leaves (RF) or the weighted margin (GBT)."""
        if self.algorithm == "rf":
            return sum(t.nodes[t.leaf(row)].value for t in self.trees) / len(self.trees)
        return sum(t.weight * t.nodes[t.leaf(row)].value for t in self.trees)

    @cached_property
    def _path_contributions(self) -> tuple[dict[int, list[float]], ...]:
        """Per tree, each leaf's contributions, scaled as the ensemble combines its trees."""
        out = []
        for tree in self.trees:
            factor = 1.0 / len(self.trees) if self.algorithm == "rf" else tree.weight
            leaves = tree.leaf_contributions(self.num_features)
            out.append({leaf: [c * factor for c in v] for leaf, v in leaves.items()})
        return tuple(out)

    def contributions(self, row: Sequence[float | None]) -> list[float]:
        """Per feature, its path contributions summed over the trees (what ``explain_sql`` sums).

        With :attr:`bias` they add up to :meth:`raw`.
        """
        total = [0.0] * self.num_features
        for tree, leaves in zip(self.trees, self._path_contributions, strict=True):
            for f, c in enumerate(leaves[tree.leaf(row)]):
                total[f] += c
        return total

    @cached_property
    def _arrays(self) -> tuple[tuple[np.ndarray, ...], ...]:
        """Per tree, its nodes as arrays indexed by node id, for the many-rows walk.

        feature (-1 at a leaf), threshold, left, right child; ``left_set[node, k]`` says whether
        category ``k`` goes left at a categorical split (an all-False row elsewhere); each leaf's
        value and its path contributions, both scaled as the ensemble combines its trees (zeros
        at inner nodes).
        """
        out = []
        categories = [
            c for t in self.trees for n in t.nodes.values() for c in n.left_categories or ()
        ]
        width = int(max(categories, default=0)) + 1
        for tree, leaves in zip(self.trees, self._path_contributions, strict=True):
            factor = 1.0 / len(self.trees) if self.algorithm == "rf" else tree.weight
            size = max(tree.nodes) + 1
            feature = np.full(size, -1)
            threshold = np.zeros(size)
            left = np.zeros(size, dtype=int)
            right = np.zeros(size, dtype=int)
            categorical = np.zeros(size, dtype=bool)
            left_set = np.zeros((size, width), dtype=bool)
            value = np.zeros(size)
            contribution = np.zeros((size, self.num_features))
            for i, node in tree.nodes.items():
                if node.is_leaf:
                    value[i] = node.value * factor
                    contribution[i] = leaves[i]
                    continue
                feature[i], threshold[i], left[i], right[i] = (
                    node.feature,
                    node.threshold,
                    node.left,
                    node.right,
                )
                if node.left_categories is not None:
                    categorical[i] = True
                    left_set[i, [int(c) for c in node.left_categories]] = True
            out.append(
                (feature, threshold, left, right, categorical, left_set, value, contribution)
            )
        return tuple(out)

    def _leaves_many(self, rows: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Per tree, the leaf each row lands in, as ``(leaf ids, the tree's arrays)``.

        The walk goes one tree level at a time for all rows: the stream scores and explains
        every event of a micro-batch, and one row at a time in Python took seconds for ten
        thousand.
        """
        for tree, arrays in zip(self.trees, self._arrays, strict=True):
            feature, threshold, left, right, categorical, left_set = arrays[:6]
            at = np.full(len(rows), tree.root)
            moving = np.nonzero(feature[at] >= 0)[0]
            while len(moving):
                node = at[moving]
                x = rows[moving, feature[node]]
                goes_left = x <= threshold[node]  # NaN compares False: missing goes right
                k = np.nan_to_num(x, nan=-1.0)
                known = categorical[node] & (k >= 0) & (k < left_set.shape[1]) & (k == np.floor(k))
                goes_left = np.where(categorical[node], False, goes_left)
                goes_left[known] = left_set[node[known], k[known].astype(int)]
                at[moving] = np.where(goes_left, left[node], right[node])
                moving = moving[feature[at[moving]] >= 0]
            yield at, arrays

    def contributions_many(self, rows: np.ndarray) -> np.ndarray:
        """:meth:`contributions` of many rows at once: rows × features in, NaN for missing."""
        rows = np.asarray(rows, dtype=float)
        total = np.zeros((len(rows), self.num_features))
        for at, arrays in self._leaves_many(rows):
            total += arrays[7][at]
        return total

    def predict_many(self, rows: np.ndarray) -> np.ndarray:
        """:meth:`predict` of many rows at once: rows × features in, NaN for missing."""
        rows = np.asarray(rows, dtype=float)
        raw = np.zeros(len(rows))
        for at, arrays in self._leaves_many(rows):
            raw += arrays[6][at]
        if self.algorithm == "gbt" and self.is_classifier:
            return 1.0 / (1.0 + np.exp(-2.0 * raw))
        return raw

    def predict(self, row: Sequence[float | None]) -> float:
        """Class-1 probability for a classifier, the prediction for a regressor."""
        raw = self.raw(row)
        if self.algorithm == "gbt" and self.is_classifier:
            return 1.0 / (1.0 + math.exp(-2.0 * raw))
        return raw


def _leaf_value(node: Mapping, is_classifier: bool, algorithm: str) -> float:
    if is_classifier and algorithm == "rf":
        stats = node["impurityStats"]
        total = sum(stats)
        return stats[1] / total if total != 0 and len(stats) > 1 else 0.0
    return float(node["prediction"])


def load(path: str | Path) -> Forest:
    """Read a saved MLlib random forest or GBT model (classifier or regressor)."""
    path = Path(path)
    metadata_files = sorted((path / "metadata").glob("part-*"))
    if not metadata_files:
        raise FileNotFoundError(f"no saved Spark ML model at {path}")
    metadata = json.loads(metadata_files[0].read_text().splitlines()[0])
    if metadata["class"] not in KINDS:
        raise ValueError(f"{path}: {metadata['class']} is not a tree ensemble the compiler knows")
    algorithm, is_classifier = KINDS[metadata["class"]]
    if is_classifier and metadata.get("numClasses", 2) != 2:
        raise ValueError(f"{path}: only binary classifiers compile to a probability")
    weights = {row["_1"]: row["_3"] for row in pq.read_table(path / "treesMetadata").to_pylist()}
    by_tree: dict[int, dict[int, Node]] = {}
    for row in pq.read_table(path / "data").to_pylist():
        data = row["nodeData"]
        split = data["split"]
        is_leaf = data["leftChild"] < 0
        categorical = not is_leaf and split["numCategories"] >= 0
        by_tree.setdefault(row["treeID"], {})[data["id"]] = Node(
            feature=-1 if is_leaf else split["featureIndex"],
            threshold=math.nan if is_leaf or categorical else split["leftCategoriesOrThreshold"][0],
            left_categories=frozenset(split["leftCategoriesOrThreshold"]) if categorical else None,
            left=data["leftChild"],
            right=data["rightChild"],
            value=_leaf_value(data, is_classifier, algorithm),
        )
    trees = tuple(
        Tree(nodes=by_tree[tree_id], weight=weights[tree_id]) for tree_id in sorted(by_tree)
    )
    return Forest(algorithm, is_classifier, trees, metadata["numFeatures"])
