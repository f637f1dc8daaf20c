"""ONNX TreeEnsemble graphs from flat node arrays.

Tree libraries keep a fitted ensemble as flat arrays per tree (children, split
feature, threshold, missing-value direction, leaf values), which are the ONNX
``TreeEnsembleClassifier``/``TreeEnsembleRegressor`` attributes almost as they are.
The direct converters (:mod:`._xgboost_onnx`, :mod:`._lightgbm_onnx`,
:mod:`._forest_onnx`) gather those arrays with numpy; this
module turns them into a serialized model. The converters
of skl2onnx and onnxmltools build the same attributes one node at a time in Python,
which costs seconds on a large forest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "GraphTooLargeError",
    "Leaves",
    "Nodes",
    "classifier_model",
    "float32_thresholds",
    "integer_classes",
    "numbered",
    "regressor_model",
]

_ONNX_OPSET = 17
_ML_OPSET = 3
_IR_VERSION = 8  # the IR of opset 17: every onnxruntime that runs opset 17 reads it
# A protobuf message cannot pass 2 GiB. Measured: about 44 bytes per node (eight
# attributes) and 12 per leaf weight; the budget leaves a margin below the limit.
_NODE_BYTES, _WEIGHT_BYTES, _BUDGET_BYTES = 44, 12, 1_800_000_000


class GraphTooLargeError(ValueError):
    """The ensemble's graph would pass protobuf's 2 GiB limit: no converter can
    write it, so the caller stops trying instead of handing it to the next one."""


def numbered(sizes: list[int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``(tree_ids, node_ids)`` of trees of these node counts laid end to end: each
    node's tree, and its position within that tree."""
    counts = np.asarray(sizes, dtype=np.int64)
    tree_ids = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return tree_ids, np.arange(len(tree_ids), dtype=np.int64) - starts


def integer_classes(estimator: Any) -> npt.NDArray[np.int64] | None:
    """The estimator's class labels as int64, or ``None`` unless there are two or more
    and they are integers (modelyard encodes labels as codes before fitting; a graph
    of the ``classlabels_int64s`` kind cannot carry other labels)."""
    classes = np.asarray(getattr(estimator, "classes_", []))
    if classes.ndim != 1 or classes.dtype.kind not in "iub" or len(classes) < 2:
        return None
    return classes.astype(np.int64)


@dataclass(frozen=True)
class Nodes:
    """Every node of every tree; for a leaf only the ids and ``leaf`` matter.

    Attributes:
        comparison: ``b"BRANCH_LT"`` (go to ``left`` when value < threshold, as
            XGBoost does) or ``b"BRANCH_LEQ"`` (value <= threshold, scikit-learn).
        missing_left: 1 where a missing (NaN) value goes to ``left``.
    """

    tree_ids: npt.NDArray[np.int64]
    node_ids: npt.NDArray[np.int64]
    leaf: npt.NDArray[np.bool_]
    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    features: npt.NDArray[np.int64]
    thresholds: npt.NDArray[np.float32]
    missing_left: npt.NDArray[np.int64]
    comparison: bytes

    def add_to(self, node: Any) -> None:
        """Add the ``nodes_*`` attributes to ``node``."""
        branch = ~self.leaf
        modes = [b"LEAF" if leaf else self.comparison for leaf in self.leaf.tolist()]
        _ints(node, "nodes_treeids", self.tree_ids)
        _ints(node, "nodes_nodeids", self.node_ids)
        _ints(node, "nodes_featureids", np.where(branch, self.features, 0))
        _strings(node, "nodes_modes", modes)
        _floats(node, "nodes_values", np.where(branch, self.thresholds, 0.0))
        _ints(node, "nodes_truenodeids", np.where(branch, self.left, 0))
        _ints(node, "nodes_falsenodeids", np.where(branch, self.right, 0))
        _ints(node, "nodes_missing_value_tracks_true", np.where(branch, self.missing_left, 0))


@dataclass(frozen=True)
class Leaves:
    """One weight per (leaf, output): added to output ``ids`` when a row reaches it."""

    tree_ids: npt.NDArray[np.int64]
    node_ids: npt.NDArray[np.int64]
    ids: npt.NDArray[np.int64]
    weights: npt.NDArray[Any]

    def add_to(self, node: Any, prefix: str) -> None:
        """Add the ``{prefix}_*`` attributes (``class`` or ``target``) to ``node``."""
        _ints(node, f"{prefix}_treeids", self.tree_ids)
        _ints(node, f"{prefix}_nodeids", self.node_ids)
        _ints(node, f"{prefix}_ids", self.ids)
        _floats(node, f"{prefix}_weights", self.weights)


def classifier_model(
    nodes: Nodes,
    leaves: Leaves,
    classes: npt.NDArray[np.int64],
    base_values: list[float] | None,
    post_transform: bytes,
    input_name: str,
    n_features: int,
) -> bytes:
    """A model answering ``label`` (int64) and ``probabilities`` (float, one per class)."""
    import onnx

    _check_size(nodes, leaves)

    label = onnx.helper.make_tensor_value_info("label", onnx.TensorProto.INT64, [None])
    outputs = [label, _matrix("probabilities", len(classes))]
    model, node = _model("TreeEnsembleClassifier", input_name, n_features, outputs)
    nodes.add_to(node)
    leaves.add_to(node, "class")
    _ints(node, "classlabels_int64s", classes)
    _string(node, "post_transform", post_transform)
    if base_values is not None:
        _floats(node, "base_values", np.asarray(base_values))
    data: bytes = model.SerializeToString()
    return data


def regressor_model(
    nodes: Nodes,
    leaves: Leaves,
    base_values: list[float] | None,
    input_name: str,
    n_features: int,
) -> bytes:
    """A model answering ``variable`` (float, one column)."""
    import onnx

    _check_size(nodes, leaves)

    model, node = _model("TreeEnsembleRegressor", input_name, n_features, [_matrix("variable", 1)])
    nodes.add_to(node)
    leaves.add_to(node, "target")
    node.attribute.add(name="n_targets", type=onnx.AttributeProto.INT, i=1)
    _string(node, "post_transform", b"NONE")
    if base_values is not None:
        _floats(node, "base_values", np.asarray(base_values))
    data: bytes = model.SerializeToString()
    return data


def _check_size(nodes: Nodes, leaves: Leaves) -> None:
    size = len(nodes.node_ids) * _NODE_BYTES + len(leaves.weights) * _WEIGHT_BYTES
    if size > _BUDGET_BYTES:
        raise GraphTooLargeError(
            f"{len(nodes.node_ids):,} tree nodes make a graph of about {size / 2**30:.1f} GiB, "
            "past protobuf's 2 GiB limit (fewer or shallower trees would fit)"
        )


def _matrix(name: str, width: int) -> Any:
    import onnx

    return onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, [None, width])


def _model(op_type: str, input_name: str, n_features: int, outputs: list[Any]) -> tuple[Any, Any]:
    """An empty model of one ``op_type`` node, and that node to fill.

    Built in place: onnx.helper's make_graph and make_model copy every node, and
    a forest's node holds millions of values.
    """
    import onnx

    model = onnx.ModelProto(ir_version=_IR_VERSION, producer_name="modelyard")
    model.opset_import.add(domain="", version=_ONNX_OPSET)
    model.opset_import.add(domain="ai.onnx.ml", version=_ML_OPSET)
    graph = model.graph
    graph.name = "trees"
    graph.input.append(_matrix(input_name, n_features))
    graph.output.extend(outputs)
    node = graph.node.add(op_type=op_type, domain="ai.onnx.ml", name="trees")
    node.input.append(input_name)
    node.output.extend(output.name for output in outputs)
    return model, node


def float32_thresholds(thresholds: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """The float32 threshold that splits float32 inputs as the float64 one does.

    scikit-learn and LightGBM compare an input with a float64 threshold (a midpoint
    between two training values) by ``x <= threshold``; rounding that threshold to
    float32 can round it up onto a training value, sending that value the wrong
    way. The largest float32 not above the threshold keeps ``x <= threshold``
    exact for every float32 ``x`` (skl2onnx's ``sklearn_threshold`` does the same,
    one node at a time).
    """
    rounded = thresholds.astype(np.float32)
    above = rounded.astype(np.float64) > thresholds
    return np.where(above, np.nextafter(rounded, np.float32(-np.inf)), rounded)


# Attributes are filled in place from plain lists: onnx.helper.make_attribute checks
# the type of every value, and adding a finished attribute to a node copies it.


def _ints(node: Any, name: str, values: npt.NDArray[Any]) -> None:
    import onnx

    attribute = node.attribute.add(name=name, type=onnx.AttributeProto.INTS)
    attribute.ints.extend(np.asarray(values, dtype=np.int64).tolist())


def _floats(node: Any, name: str, values: npt.NDArray[Any]) -> None:
    import onnx

    attribute = node.attribute.add(name=name, type=onnx.AttributeProto.FLOATS)
    attribute.floats.extend(np.asarray(values, dtype=np.float32).tolist())


def _strings(node: Any, name: str, values: list[bytes]) -> None:
    import onnx

    attribute = node.attribute.add(name=name, type=onnx.AttributeProto.STRINGS)
    attribute.strings.extend(values)


def _string(node: Any, name: str, value: bytes) -> None:
    import onnx

    node.attribute.add(name=name, type=onnx.AttributeProto.STRING, s=value)
