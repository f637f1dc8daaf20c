"""XGBoost to ONNX straight from the model's own arrays.

onnxmltools converts an XGBoost model by dumping every tree as JSON text, parsing
it and visiting each node in Python: 0.23 s of the 200-tree churn model (12,000
nodes), the largest single part of a training job's overhead after the fit. The
model's JSON already holds each tree as flat arrays (children, split feature,
threshold, default direction, leaf value), which :mod:`._tree_graph` turns into
the graph in a few milliseconds.

This covers what modelyard's feature recipe feeds XGBoost: ``gbtree`` boosters on
a dense float matrix (numeric splits only) with a logistic, softmax or
identity-link objective. For anything else :func:`xgboost_graph` returns ``None``
and the caller converts with onnxmltools; the parity check judges either graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from modelyard.registry._tree_graph import (
    Leaves,
    Nodes,
    classifier_model,
    integer_classes,
    numbered,
    regressor_model,
)

__all__ = ["xgboost_graph"]

_IDENTITY_REGRESSION = frozenset(
    {"reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror", "reg:squaredlogerror"}
)
_CLASSIFICATION = frozenset({"binary:logistic", "multi:softprob"})


def xgboost_graph(
    estimator: Any, input_name: str, n_features: int, classification: bool
) -> bytes | None:
    """The serialized ONNX model of a fitted ``XGBClassifier``/``XGBRegressor``,
    or ``None`` when the model has a part this converter does not cover."""
    import orjson

    if getattr(estimator, "best_iteration", None) is not None:
        return None  # predictions stop at the best iteration: leave it to onnxmltools
    missing = getattr(estimator, "missing", np.nan)
    if missing is not None and not (isinstance(missing, float) and np.isnan(missing)):
        return None  # ONNX trees treat only NaN as missing
    learner = orjson.loads(bytes(estimator.get_booster().save_raw("json")))["learner"]
    objective = learner["objective"]["name"]
    booster = learner["gradient_booster"]
    if booster["name"] != "gbtree":
        return None
    if objective not in (_CLASSIFICATION if classification else _IDENTITY_REGRESSION):
        return None
    trees = booster["model"]["trees"]
    if not trees or any(_unsupported(tree) for tree in trees):
        return None
    base_score = _floats_of(learner["learner_model_param"]["base_score"])
    groups = np.asarray(booster["model"]["tree_info"], dtype=np.int64)  # output per tree
    nodes, leaf_values = _nodes(trees)
    leaf = nodes.leaf
    leaves = Leaves(
        nodes.tree_ids[leaf], nodes.node_ids[leaf], groups[nodes.tree_ids[leaf]], leaf_values
    )
    if not classification:
        single = learner["learner_model_param"].get("num_target", "1") == "1"
        if not single or len(base_score) != 1 or np.any(groups != 0):
            return None
        return regressor_model(nodes, leaves, base_score, input_name, n_features)
    classes = integer_classes(estimator)
    if classes is None:
        return None
    shape = _classifier_shape(objective, base_score, groups, len(classes))
    if shape is None:
        return None
    base_values, transform = shape
    return classifier_model(nodes, leaves, classes, base_values, transform, input_name, n_features)


def _unsupported(tree: dict[str, Any]) -> bool:
    """Categorical splits, deleted nodes or vector leaves: not flat numeric trees."""
    param = tree["tree_param"]
    return (
        any(tree["split_type"])
        or param.get("num_deleted", "0") != "0"
        or param.get("size_leaf_vector", "1") not in ("0", "1")
    )


def _floats_of(text: str) -> list[float]:
    """XGBoost writes ``base_score`` as ``"[5E-1]"`` (3.x) or ``"5E-1"`` (older)."""
    return [float(v) for v in text.strip("[]").split(",") if v.strip()]


def _nodes(trees: list[dict[str, Any]]) -> tuple[Nodes, npt.NDArray[np.float32]]:
    """Every tree's nodes (XGBoost goes left when value < threshold, and left for a
    missing value when ``default_left``), and the leaves' values in node order."""
    tree_ids, node_ids = numbered([len(tree["left_children"]) for tree in trees])

    def joined(key: str, dtype: Any) -> Any:
        return np.concatenate([np.asarray(tree[key], dtype=dtype) for tree in trees])

    left = joined("left_children", np.int64)
    # a leaf's value sits in split_conditions; thresholds are float32 in XGBoost
    conditions = joined("split_conditions", np.float32)
    nodes = Nodes(
        tree_ids=tree_ids,
        node_ids=node_ids,
        leaf=left < 0,
        left=left,
        right=joined("right_children", np.int64),
        features=joined("split_indices", np.int64),
        thresholds=conditions,
        missing_left=joined("default_left", np.int64),
        comparison=b"BRANCH_LT",
    )
    return nodes, conditions[nodes.leaf]


def _classifier_shape(
    objective: str, base_score: list[float], groups: npt.NDArray[np.int64], n_classes: int
) -> tuple[list[float], bytes] | None:
    """The base margins and output transform, or ``None`` for an unexpected shape."""
    if objective == "binary:logistic":
        if n_classes != 2 or len(base_score) != 1 or np.any(groups != 0):
            return None
        probability = np.float32(base_score[0])
        if not 0.0 < probability < 1.0:
            return None
        # One margin, LOGISTIC, two labels: onnxruntime answers (1 - p, p). The margin
        # is computed in float32 as XGBoost does (-log(1/p - 1)).
        one = np.float32(1.0)
        return [float(-np.log(one / probability - one))], b"LOGISTIC"
    # multi:softprob: one tree per class per round, a margin per class
    if len(base_score) not in (1, n_classes) or np.any(groups >= n_classes):
        return None
    return (base_score * n_classes if len(base_score) == 1 else base_score), b"SOFTMAX"
