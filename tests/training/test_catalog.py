"""One conformance test class run over every catalog algorithm on every task."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelyard import datasets
from modelyard.data._infer import infer_schema
from modelyard.data._schema import apply_overrides
from modelyard.errors import InvalidInputError
from modelyard.features import build_pipeline
from modelyard.registry import compile_onnx
from modelyard.training import ALGORITHMS, get_algorithm

TASK_DATA = {
    "binary": ("churn", "churned"),
    "multiclass": ("churn", "contract"),
    "regression": ("houses", "price"),
}


def _problem(task: str) -> tuple[list, pd.DataFrame, np.ndarray]:
    import pyarrow as pa

    name, target = TASK_DATA[task]
    frame = getattr(datasets, name)(800, seed=3)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    _, columns = apply_overrides(table, infer_schema(table), target=target)
    y = frame[target].to_numpy()
    return columns, frame.drop(columns=[target]), y


class _EdgeTrial:
    """A search-space trial that always picks the lowest (or highest) choice."""

    def __init__(self, pick: str) -> None:
        self.pick = pick

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        return low if self.pick == "low" else high

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        return low if self.pick == "low" else high

    def suggest_categorical(self, name: str, choices: list[object]) -> object:
        return choices[0] if self.pick == "low" else choices[-1]


@pytest.mark.parametrize("task", ["binary", "regression"])
@pytest.mark.parametrize("name", list(ALGORITHMS))
class TestCatalogContract:
    """What every catalog entry promises for every task it claims."""

    def test_trains_predicts_or_refuses_clearly(self, name: str, task: str) -> None:
        algorithm = get_algorithm(name)
        if not algorithm.supports(task):
            with pytest.raises(InvalidInputError, match=f"does not support {task}"):
                algorithm.estimator(task)  # type: ignore[arg-type]
            return
        columns, X, y = _problem(task)
        estimator = algorithm.estimator(task, None, seed=0)  # type: ignore[arg-type]
        pipeline = build_pipeline(columns, estimator, needs_scaling=algorithm.needs_scaling)
        pipeline.fit(X[:600], y[:600])
        if task == "regression":
            predicted = pipeline.predict(X[600:])
            assert predicted.shape == (200,) and np.isfinite(predicted).all()
            r2 = 1 - np.sum((y[600:] - predicted) ** 2) / np.sum((y[600:] - y[600:].mean()) ** 2)
            assert r2 > 0.2, f"{name} learned nothing (r2={r2:.2f})"
        else:
            proba = pipeline.predict_proba(X[600:])
            assert proba.shape == (200, 2)
            assert np.allclose(proba.sum(axis=1), 1.0)
            from sklearn.metrics import roc_auc_score

            assert roc_auc_score(y[600:], proba[:, 1]) > 0.6, f"{name} learned nothing"

    def test_defaults_and_search_space_are_valid_params(self, name: str, task: str) -> None:
        algorithm = get_algorithm(name)
        if not algorithm.supports(task):
            return
        for pick in ("low", "high"):
            params = algorithm.space(_EdgeTrial(pick), task)  # type: ignore[arg-type]
            estimator = algorithm.estimator(task, params)  # type: ignore[arg-type]
            assert estimator is not None
            assert params and set(params) <= algorithm.param_names(task)  # type: ignore[arg-type]

    def test_unknown_parameter_is_named(self, name: str, task: str) -> None:
        algorithm = get_algorithm(name)
        if not algorithm.supports(task):
            return
        with pytest.raises(InvalidInputError, match="no_such_knob"):
            algorithm.estimator(task, {"no_such_knob": 1})  # type: ignore[arg-type]


def test_unknown_algorithm_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInputError, match="known: linear, knn"):
        get_algorithm("deep_forest")


@pytest.mark.parametrize("name", ["xgboost", "lightgbm", "random_forest", "linear"])
def test_onnx_parity_on_churn_with_categoricals_missing_and_datetime(name: str) -> None:
    columns, X, y = _problem("binary")
    kinds = {c.name: c.logical_type.value for c in columns}
    assert {"categorical", "datetime", "boolean", "numeric"} <= set(kinds.values())
    assert X.isna().any().any()
    algorithm = get_algorithm(name)
    pipeline = build_pipeline(
        columns, algorithm.estimator("binary", None, 0), needs_scaling=algorithm.needs_scaling
    )
    pipeline.fit(X[:600], y[:600])
    held_out = X[600:]
    outcome = compile_onnx(
        pipeline[-1],
        pipeline[0].transform(held_out),
        pipeline.predict_proba(held_out),
        classification=True,
    )
    assert outcome.model is not None, outcome.reason
    assert outcome.max_difference is not None and outcome.max_difference <= 1e-4


def test_a_model_that_cannot_convert_says_why() -> None:
    """A Poisson loss has a log link: the direct tree converter leaves it to
    skl2onnx, which cannot build it; the outcome says why instead of a graph."""
    columns, X, y = _problem("regression")
    algorithm = get_algorithm("hist_gradient_boosting")
    estimator = algorithm.estimator("regression", {"loss": "poisson"}, 0)
    pipeline = build_pipeline(columns, estimator, needs_scaling=False)
    pipeline.fit(X[:600], y[:600])
    outcome = compile_onnx(
        pipeline[-1],
        pipeline[0].transform(X[600:]),
        pipeline.predict(X[600:]),
        classification=False,
    )
    assert outcome.model is None and outcome.converter is None
    # skl2onnx either refuses the log link or builds a graph that the parity check
    # refuses (newer releases): either way no ONNX model, and the reason says why
    assert outcome.reason is not None
    assert outcome.reason.startswith(("conversion failed", "ONNX outputs differ"))
    assert outcome.manifest_entry()["available"] is False


_SUPPORTED = [
    (name, task)
    for name, algorithm in ALGORITHMS.items()
    for task in ("binary", "multiclass", "regression")
    if algorithm.supports(task)  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("name", "task"), _SUPPORTED)
def test_every_catalog_model_has_an_onnx_flavor(name: str, task: str) -> None:
    """Each algorithm on each task it supports compiles to a graph that agrees with
    its pipeline on held-out rows: tree models through the direct converters (scikit-
    learn's histogram boosting included, which skl2onnx cannot build), the SVM
    regressor's standardised-target wrapper (which skl2onnx does not know) as its SVR
    and the inverse scaling."""
    algorithm = get_algorithm(name)
    columns, X, y = _problem(task)
    if task != "regression":
        y = np.unique(y, return_inverse=True)[1]  # the training job encodes labels as codes
    estimator = algorithm.estimator(task, None, 0)  # type: ignore[arg-type]
    pipeline = build_pipeline(columns, estimator, needs_scaling=algorithm.needs_scaling)
    pipeline.fit(X[:600], y[:600])
    classification = task != "regression"
    held_out = X[600:]
    reference = pipeline.predict_proba(held_out) if classification else pipeline.predict(held_out)
    outcome = compile_onnx(
        pipeline[-1], pipeline[0].transform(held_out), reference, classification=classification
    )
    assert outcome.model is not None, outcome.reason
    assert outcome.max_difference is not None and outcome.max_difference <= 1e-4
