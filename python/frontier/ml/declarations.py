"""Model declarations: one YAML file per model under ``ml/``.

A declaration names the feature table, the label, how to hold out rows for evaluation (the most
recent period by a time column, a seeded random share when the table has no time, or k-fold
cross-validation for small tables), the algorithms and their parameters.

``resolve`` checks it against the table in the metastore and fills in the
features when the declaration leaves them out (every other numeric column is a number, every
string column a category), so any Hive table with a label column can be trained on.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from pyspark.sql import SparkSession
from pyspark.sql.types import BooleanType, NumericType, StringType

from frontier import config

TASKS = ("classification", "regression")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class DeclarationError(ValueError):
    """A declaration that cannot be trained as written; the message names the problem."""


@dataclass(frozen=True)
class Declaration:
    name: str
    table: str
    label: str
    time_column: str | None = None
    task: str = "classification"
    description: str = ""
    key: str | None = None
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    algorithms: dict[str, dict] = field(default_factory=dict)
    holdout_days: int | None = None
    holdout_fraction: float | None = None
    holdout_start: str | None = None
    holdout_seed: int = 42
    cv_folds: int | None = None
    cv_below_rows: int | None = None
    threshold: float = 0.5
    negative_sample: float | None = None
    forecast: dict | None = None
    metric: str | None = None
    source: Path | None = None

    @property
    def is_classifier(self) -> bool:
        return self.task == "classification"

    def cross_validates(self, labelled_rows: int) -> bool:
        """k-fold cross-validation instead of one holdout: declared, and the table small enough."""
        if self.cv_folds is None:
            return False
        return self.cv_below_rows is None or labelled_rows < self.cv_below_rows

    @property
    def features(self) -> tuple[str, ...]:
        """Vector order, which is also the predict function's argument order."""
        return self.numeric + self.categorical

    @property
    def selection_metric(self) -> str:
        """Holdout metric that picks the champion: higher is better except for errors."""
        return self.metric or ("auc_roc" if self.is_classifier else "rmse")


def directory() -> Path:
    return config.project_root() / "ml"


def parse(text: str, source: Path | None = None) -> Declaration:
    where = source.name if source else "declaration"
    raw = yaml.safe_load(text) or {}
    if not isinstance(raw, dict):
        raise DeclarationError(f"{where}: expected a mapping of keys")
    missing = [k for k in ("name", "table", "label", "algorithms") if k not in raw]
    if missing:
        raise DeclarationError(f"{where}: missing required key(s): {', '.join(missing)}")
    if not NAME.match(str(raw["name"])):
        raise DeclarationError(f"{where}: name {raw['name']!r} must be lower_snake_case")
    task = raw.get("task", "classification")
    if task not in TASKS:
        raise DeclarationError(f"{where}: task {task!r} is not one of {', '.join(TASKS)}")
    holdout = raw.get("holdout") or {"fraction": 0.2}
    if sum(k in holdout for k in ("days", "fraction", "start")) != 1:
        raise DeclarationError(
            f"{where}: holdout takes exactly one of `days`, `fraction` or `start` (a date)"
        )
    if "time_column" not in raw and "fraction" not in holdout:
        raise DeclarationError(
            f"{where}: without a `time_column` the holdout is a random `fraction` of the rows"
        )
    fraction = holdout.get("fraction")
    if fraction is not None and not 0 < float(fraction) < 1:
        raise DeclarationError(f"{where}: holdout fraction {fraction} is not between 0 and 1")
    cv = raw.get("cross_validation") or {}
    if cv and (not isinstance(cv.get("folds"), int) or cv["folds"] < 2):
        raise DeclarationError(f"{where}: cross_validation needs `folds`, an integer of 2 or more")
    features = raw.get("features") or {}
    algorithms = raw["algorithms"]
    if not isinstance(algorithms, dict) or not algorithms:
        raise DeclarationError(f"{where}: `algorithms` maps algorithm names to their parameters")
    known = {"name", "table", "label", "time_column", "task", "description", "key", "features",
             "algorithms", "holdout", "threshold", "negative_sample", "forecast",
             "selection_metric", "cross_validation"}  # fmt: skip
    unknown = sorted(set(raw) - known)
    if unknown:
        raise DeclarationError(f"{where}: unknown key(s): {', '.join(unknown)}")
    return Declaration(
        name=raw["name"],
        table=raw["table"],
        label=raw["label"],
        time_column=raw.get("time_column"),
        task=task,
        description=str(raw.get("description", "")).strip(),
        key=raw.get("key"),
        numeric=tuple(features.get("numeric", ())),
        categorical=tuple(features.get("categorical", ())),
        exclude=tuple(features.get("exclude", ())),
        algorithms={name: dict(params or {}) for name, params in algorithms.items()},
        holdout_days=holdout.get("days"),
        holdout_fraction=holdout.get("fraction"),
        holdout_start=str(holdout["start"]) if "start" in holdout else None,
        holdout_seed=int(holdout.get("seed", 42)),
        cv_folds=cv.get("folds"),
        cv_below_rows=cv.get("below_rows"),
        threshold=float(raw.get("threshold", 0.5)),
        negative_sample=raw.get("negative_sample"),
        forecast=raw.get("forecast"),
        metric=raw.get("selection_metric"),
        source=source,
    )


def load(name: str) -> Declaration:
    path = directory() / f"{name}.yml"
    if not path.is_file():
        known = ", ".join(d.name for d in load_all()) or "none"
        raise DeclarationError(f"no declaration ml/{name}.yml (declared models: {known})")
    return parse(path.read_text(), path)


def load_all() -> list[Declaration]:
    return [parse(p.read_text(), p) for p in sorted(directory().glob("*.yml"))]


def with_tables(
    spark: SparkSession, declarations: list[Declaration], report: bool = True
) -> list[Declaration]:
    """The declarations whose table exists; each one left out is named with what to do.

    ``frontier train`` and ``monitor`` without a name use this, so a warehouse trains the models
    its data supports (the Taiwan model once its table is loaded, say) without failing on the rest.
    """
    kept = []
    for d in declarations:
        if spark.catalog.tableExists(d.table):
            kept.append(d)
        elif report:
            print(f"[ml] {d.name}: skipped, table {d.table} does not exist yet", file=sys.stderr)
    return kept


def resolve(spark: SparkSession, declaration: Declaration) -> Declaration:
    """Check the declaration against its table; infer the features it leaves out."""
    d = declaration
    if not spark.catalog.tableExists(d.table):
        raise DeclarationError(f"{d.name}: table {d.table} does not exist")
    schema = {f.name: f.dataType for f in spark.table(d.table).schema.fields}
    named = [d.label, *(c for c in [d.time_column, d.key] if c), *d.features, *d.exclude]
    absent = [c for c in named if c not in schema]
    if absent:
        raise DeclarationError(f"{d.name}: {d.table} has no column(s) {', '.join(absent)}")
    if not d.features:
        skip = {d.label, d.time_column, d.key, *d.exclude}
        numeric = tuple(
            c for c, t in schema.items()
            if c not in skip and isinstance(t, NumericType | BooleanType)
        )  # fmt: skip
        categorical = tuple(
            c for c, t in schema.items() if c not in skip and isinstance(t, StringType)
        )
        d = replace(d, numeric=numeric, categorical=categorical)
    if not d.features:
        raise DeclarationError(f"{d.name}: {d.table} has no feature columns")
    wrong = [c for c in d.categorical if not isinstance(schema[c], StringType | NumericType)]
    wrong += [c for c in d.numeric if not isinstance(schema[c], NumericType | BooleanType)]
    if wrong:
        raise DeclarationError(f"{d.name}: column(s) of an unusable type: {', '.join(wrong)}")
    return d
