"""scikit-learn's histogram gradient boosting to ONNX from its tree predictors.

skl2onnx 1.20 cannot convert scikit-learn 1.9's ``HistGradientBoosting*`` (it
fails building the node), so those models had no ONNX flavor. Each fitted
iteration keeps one tree per output as a structured node array (feature,
threshold, missing direction, children, leaf value), which :mod:`._tree_graph`
turns into a TreeEnsemble with the model's baseline as the base values.

Covers numeric splits with the log-loss (binary: logistic, multiclass: softmax) or
an identity-link regression loss. Models with categorical splits, or a loss with a
log link (Poisson, gamma), return ``None``. The node arrays are private to
scikit-learn (skl2onnx reads the same ones); the parity check guards the result.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from modelyard.registry._tree_graph import (
    Leaves,
    Nodes,
    classifier_model,
    float32_thresholds,
    integer_classes,
    numbered,
    regressor_model,
)

__all__ = ["histgb_graph"]

_IDENTITY_LOSSES = frozenset({"squared_error", "absolute_error", "quantile"})


def histgb_graph(
    estimator: Any, input_name: str, n_features: int, classification: bool
) -> bytes | None:
    """The serialized ONNX model of a fitted ``HistGradientBoostingClassifier`` or
    ``HistGradientBoostingRegressor``, or ``None`` when it has a part not covered."""
    iterations = getattr(estimator, "_predictors", None)
    baseline = getattr(estimator, "_baseline_prediction", None)
    if not iterations or baseline is None:
        return None
    per_iteration = len(iterations[0])
    trees = [tree.nodes for iteration in iterations for tree in iteration]
    if any(np.any(nodes["is_categorical"][nodes["is_leaf"] == 0]) for nodes in trees):
        return None
    base = [float(v) for v in np.asarray(baseline, dtype=np.float64).ravel()]
    nodes = _nodes(trees)
    leaf = nodes.leaf
    tree_of_leaf = nodes.tree_ids[leaf]
    values = np.concatenate([tree["value"] for tree in trees])[leaf]
    outputs = tree_of_leaf % per_iteration  # each iteration: one tree per output, in order
    leaves = Leaves(tree_of_leaf, nodes.node_ids[leaf], outputs, values)
    if not classification:
        if estimator.loss not in _IDENTITY_LOSSES or per_iteration != 1 or len(base) != 1:
            return None
        return regressor_model(nodes, leaves, base, input_name, n_features)
    classes = integer_classes(estimator)
    if classes is None or estimator.loss != "log_loss":
        return None
    if len(classes) == 2 and per_iteration == 1 and len(base) == 1:
        transform = b"LOGISTIC"  # one margin: onnxruntime answers (1 - p, p)
    elif per_iteration == len(classes) == len(base):
        transform = b"SOFTMAX"
    else:
        return None
    return classifier_model(nodes, leaves, classes, base, transform, input_name, n_features)


def _nodes(trees: list[npt.NDArray[Any]]) -> Nodes:
    """Every tree's nodes: the predictor goes left when value <= threshold, and left
    for a missing value where ``missing_go_to_left``."""
    tree_ids, node_ids = numbered([len(nodes) for nodes in trees])

    def joined(field: str, dtype: Any) -> Any:
        return np.concatenate([nodes[field] for nodes in trees]).astype(dtype)

    leaf = joined("is_leaf", bool)
    return Nodes(
        tree_ids=tree_ids,
        node_ids=node_ids,
        leaf=leaf,
        left=joined("left", np.int64),
        right=joined("right", np.int64),
        features=joined("feature_idx", np.int64),
        thresholds=float32_thresholds(joined("num_threshold", np.float64)),
        missing_left=joined("missing_go_to_left", np.int64),
        comparison=b"BRANCH_LEQ",
    )
