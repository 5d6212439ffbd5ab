"""The one MLlib pipeline every model uses, and what the SQL compiler needs to know about it.

Numbers go through a ``SQLTransformer`` that replaces NULL and NaN by the largest double (Spark
4's tree learners reject NaN in training vectors); every split threshold is below it, so a missing
value takes the right branch at every split, which is also what the compiled SQL does with NULL.
Categorical columns go through ``StringIndexer`` (alphabetical labels, ``handleInvalid="keep"``:
unseen values and NULL get the extra index). Numbers first, then categories: that order is the
vector order and the SQL function's argument order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import GBTClassifier, RandomForestClassifier
from pyspark.ml.feature import SQLTransformer, StringIndexer, StringIndexerModel, VectorAssembler
from pyspark.ml.regression import GBTRegressor, RandomForestRegressor

from udfs.compiler import Argument

FEATURES = "features"
MISSING = 1.7976931348623157e308  # Double.MAX_VALUE: above every threshold, so "go right"
ESTIMATORS = {
    ("random_forest", True): RandomForestClassifier,
    ("gbt", True): GBTClassifier,
    ("random_forest", False): RandomForestRegressor,
    ("gbt", False): GBTRegressor,
}


def index_column(column: str) -> str:
    return f"{column}__index"


def filled_column(column: str) -> str:
    return f"{column}__filled"


def source_column(vector_column: str) -> str:
    return vector_column.removesuffix("__index").removesuffix("__filled")


def fill_missing(numeric: list[str]) -> SQLTransformer:
    missing = f"{MISSING!r}D"
    filled = ", ".join(
        f"coalesce(nanvl(cast(`{c}` as double), {missing}), {missing}) as `{filled_column(c)}`"
        for c in numeric
    )
    return SQLTransformer(statement=f"select *, {filled} from __THIS__")


def build(
    numeric: list[str],
    categorical: list[str],
    label: str,
    algorithm: str,
    is_classifier: bool,
    params: dict,
    seed: int = 42,
) -> Pipeline:
    """A pipeline of indexers, assembler and one tree ensemble with the declared parameters."""
    try:
        estimator_class = ESTIMATORS[(algorithm, is_classifier)]
    except KeyError:
        known = sorted({name for name, _ in ESTIMATORS})
        raise ValueError(f"unknown algorithm {algorithm!r}; known: {', '.join(known)}") from None
    estimator = estimator_class(featuresCol=FEATURES, labelCol=label, seed=seed)
    unknown = [key for key in params if not estimator.hasParam(key)]
    if unknown:
        raise ValueError(f"{algorithm} has no parameter(s) {', '.join(unknown)}")
    estimator = estimator.setParams(**params)
    indexers = [
        StringIndexer(
            inputCol=column,
            outputCol=index_column(column),
            handleInvalid="keep",
            stringOrderType="alphabetAsc",
        )
        for column in categorical
    ]
    assembler = VectorAssembler(
        inputCols=[filled_column(c) for c in numeric] + [index_column(c) for c in categorical],
        outputCol=FEATURES,
        handleInvalid="keep",
    )
    fill = [fill_missing(numeric)] if numeric else []
    return Pipeline(stages=[*fill, *indexers, assembler, estimator])


def arguments(model: PipelineModel) -> list[Argument]:
    """The SQL function's arguments, in vector order, with each category's indexer labels."""
    labels = {
        stage.getInputCol(): tuple(stage.labels)
        for stage in model.stages
        if isinstance(stage, StringIndexerModel)
    }
    assembler = next(s for s in model.stages if isinstance(s, VectorAssembler))
    out = []
    for column in assembler.getInputCols():
        source = source_column(column)
        out.append(Argument(source, labels.get(source)))
    return out


def vectors(arguments: Sequence[Argument], frame: pd.DataFrame) -> np.ndarray:
    """The feature vectors the fitted pipeline builds, for rows held in pandas (rows × arguments).

    Numbers as doubles with NaN where missing (the tree walk sends NaN right, as the pipeline's
    ``MISSING`` goes right); categories as their indexer's index, unseen values and missing
    ones the extra index ``len(labels)``. For scoring on the driver with ``udfs.forest``.
    """
    columns = []
    for argument in arguments:
        values = frame[argument.name]
        if argument.labels is None:
            columns.append(pd.to_numeric(values).to_numpy(dtype=float, na_value=np.nan))
        else:
            index = {label: float(i) for i, label in enumerate(argument.labels)}
            coded = values.map(index).astype(float).fillna(float(len(argument.labels)))
            columns.append(coded.to_numpy())
    return np.column_stack(columns) if columns else np.empty((len(frame), 0))


def estimator_path(saved_pipeline: str | Path) -> Path:
    """Directory of the tree ensemble stage inside a saved pipeline model."""
    stages = sorted(Path(saved_pipeline, "stages").iterdir())
    return stages[-1]
