"""LightGBM to ONNX straight from the model's text format.

onnxmltools converts a LightGBM model by dumping it to nested JSON and visiting
every node in Python: 0.54 s for 200 trees of 31 leaves. The model's own text
format lists each tree's nodes as flat arrays (split feature, threshold, decision
type, children, leaf values), which :mod:`._tree_graph` turns into the same graph.

Covers ``gbdt`` models with numeric splits and a sigmoid (binary), softmax
(multiclass) or identity (regression) output, which is what modelyard's recipe and
catalog train. Anything else returns ``None`` and onnxmltools converts it; the
parity check judges either graph.
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

__all__ = ["lightgbm_graph"]

_IDENTITY_REGRESSION = frozenset(
    {"regression", "regression_l1", "huber", "fair", "quantile", "mape"}
)
_MISSING_ZERO, _MISSING_NAN = 1, 2  # 0: none (NaN reads as 0.0)


def lightgbm_graph(
    estimator: Any, input_name: str, n_features: int, classification: bool
) -> bytes | None:
    """The serialized ONNX model of a fitted ``LGBMClassifier``/``LGBMRegressor``,
    or ``None`` when the model has a part this converter does not cover."""
    booster = estimator.booster_
    header, trees = _parse(booster.model_to_string())
    if header is None or not trees:
        return None
    per_iteration = int(header.get("num_tree_per_iteration", "1"))
    best = getattr(estimator, "best_iteration_", None)
    if best and best * per_iteration < len(trees):
        return None  # predictions stop at the best iteration: leave it to onnxmltools
    parsed = [_tree(tree) for tree in trees]
    if any(tree is None for tree in parsed):
        return None
    nodes, leaf_values = _nodes([tree for tree in parsed if tree is not None])
    if nodes is None:
        return None
    leaf = nodes.leaf
    objective = header.get("objective", "").split()
    name = objective[0] if objective else ""
    tree_of_leaf = nodes.tree_ids[leaf]
    if not classification:
        if name not in _IDENTITY_REGRESSION or "sqrt" in objective or per_iteration != 1:
            return None  # reg_sqrt squares the trees' sum: not an identity output
        leaves = Leaves(
            tree_of_leaf, nodes.node_ids[leaf], np.zeros_like(tree_of_leaf), leaf_values
        )
        return regressor_model(nodes, leaves, None, input_name, n_features)
    classes = integer_classes(estimator)
    if classes is None:
        return None
    if name == "binary" and "sigmoid:1" in objective and per_iteration == 1 and len(classes) == 2:
        ids = np.zeros_like(tree_of_leaf)  # one margin, LOGISTIC: onnxruntime answers (1 - p, p)
        transform = b"LOGISTIC"
    elif name == "multiclass" and per_iteration == len(classes):
        ids = tree_of_leaf % per_iteration  # trees take turns: class 0, 1, ..., k-1, 0, ...
        transform = b"SOFTMAX"
    else:
        return None
    leaves = Leaves(tree_of_leaf, nodes.node_ids[leaf], ids, leaf_values)
    return classifier_model(nodes, leaves, classes, None, transform, input_name, n_features)


def _parse(text: str) -> tuple[dict[str, str] | None, list[dict[str, str]]]:
    """The header's ``key=value`` lines and each tree's, in order."""
    body, _, _ = text.partition("end of trees")
    blocks = body.split("\nTree=")
    header = _fields(blocks[0])
    if header.get("version") is None or "average_output" in blocks[0].split():
        return None, []  # a random-forest-mode booster averages: not covered
    return header, [_fields(block) for block in blocks[1:]]


def _fields(block: str) -> dict[str, str]:
    fields = {}
    for line in block.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _tree(fields: dict[str, str]) -> dict[str, npt.NDArray[Any]] | None:
    """One tree's arrays, or ``None`` for categorical splits or linear leaves."""
    if fields.get("num_cat", "0") != "0" or fields.get("is_linear", "0") != "0":
        return None
    # a one-leaf tree lists no splits: its split arrays are empty
    tree = {
        "leaf_value": _numbers(fields["leaf_value"], np.float64),
        "split_feature": _numbers(fields.get("split_feature", ""), np.int64),
        "threshold": _numbers(fields.get("threshold", ""), np.float64),
        "decision_type": _numbers(fields.get("decision_type", ""), np.int64),
        "left_child": _numbers(fields.get("left_child", ""), np.int64),
        "right_child": _numbers(fields.get("right_child", ""), np.int64),
    }
    if np.any(tree["decision_type"] & 1):  # a categorical split
        return None
    return tree


def _numbers(text: str, dtype: Any) -> npt.NDArray[Any]:
    return np.asarray(text.split(), dtype=dtype)


def _nodes(
    trees: list[dict[str, npt.NDArray[Any]]],
) -> tuple[Nodes | None, npt.NDArray[np.float64]]:
    """Every tree's nodes: the internal nodes keep their numbers, leaf ``j`` becomes
    node ``internal + j``; LightGBM goes left when value <= threshold."""
    internal = [len(tree["split_feature"]) for tree in trees]
    leaves = [len(tree["leaf_value"]) for tree in trees]
    sizes = [i + n for i, n in zip(internal, leaves, strict=True)]
    tree_ids, node_ids = numbered(sizes)
    missing = [_missing_left(tree["decision_type"], tree["threshold"]) for tree in trees]
    if any(directions is None for directions in missing):
        return None, np.empty(0)

    def joined(per_tree: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
        """Per-tree split arrays, each followed by zeros for its leaves."""
        pairs = zip(per_tree, leaves, strict=True)
        return np.concatenate([np.concatenate([a, np.zeros(n, a.dtype)]) for a, n in pairs])

    def children(key: str) -> list[npt.NDArray[np.int64]]:
        # a negative child -c is leaf c - 1, numbered after the tree's internal nodes
        return [
            np.where(tree[key] >= 0, tree[key], n + (-tree[key] - 1))
            for tree, n in zip(trees, internal, strict=True)
        ]

    nodes = Nodes(
        tree_ids=tree_ids,
        node_ids=node_ids,
        leaf=node_ids >= np.repeat(internal, sizes),
        left=joined(children("left_child")),
        right=joined(children("right_child")),
        features=joined([tree["split_feature"] for tree in trees]),
        thresholds=float32_thresholds(joined([tree["threshold"] for tree in trees])),
        missing_left=joined([m for m in missing if m is not None]),
        comparison=b"BRANCH_LEQ",
    )
    return nodes, np.concatenate([tree["leaf_value"] for tree in trees])


def _missing_left(
    decision_types: npt.NDArray[np.int64], thresholds: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64] | None:
    """Where a NaN goes, per split, as LightGBM decides it.

    Missing type NaN: to the default side. None: NaN reads as 0.0 and is compared.
    Zero: NaN and 0.0 both go to the default side, which a graph can only say when
    that is where comparing 0.0 sends them anyway; otherwise ``None``.
    """
    default_left = (decision_types >> 1) & 1
    missing_type = (decision_types >> 2) & 3
    zero_goes_left = (thresholds >= 0.0).astype(np.int64)
    if np.any((missing_type == _MISSING_ZERO) & (default_left != zero_goes_left)):
        return None
    return np.where(missing_type == _MISSING_NAN, default_left, zero_goes_left)
