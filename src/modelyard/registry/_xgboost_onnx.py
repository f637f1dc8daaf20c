"""XGBoost to ONNX straight from the model's own arrays.

onnxmltools converts an XGBoost model by dumping every tree as JSON text, parsing
it and visiting each node in Python: 0.23 s of the 200-tree churn model (12,000
nodes), the largest single part of a training job's overhead after the fit. The
model's JSON already holds each tree as flat arrays (children, split feature,
threshold, default direction, leaf value), which are the ONNX TreeEnsemble
attributes almost as they are: numpy concatenates them in a few milliseconds.

This covers what modelyard's feature recipe feeds XGBoost: ``gbtree`` boosters on
a dense float matrix (numeric splits only) with a logistic, softmax or
identity-link objective. For anything else :func:`xgboost_graph` returns ``None``
and the caller converts with onnxmltools; the parity check judges either graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["xgboost_graph"]

_IDENTITY_REGRESSION = frozenset(
    {"reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror", "reg:squaredlogerror"}
)
_CLASSIFICATION = frozenset({"binary:logistic", "multi:softprob"})
_ONNX_OPSET = 17
_ML_OPSET = 3
_IR_VERSION = 8  # the IR of opset 17: every onnxruntime that runs opset 17 reads it


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
    groups = np.asarray(booster["model"]["tree_info"], dtype=np.int64)
    ensemble = _Ensemble.of(trees, groups)
    try:
        if classification:
            classes = np.asarray(getattr(estimator, "classes_", []))
            if classes.dtype.kind not in "iub":
                raise _UnsupportedError
            node = _classifier_node(ensemble, objective, base_score, classes, input_name)
            outputs = _classifier_outputs(len(classes))
        else:
            if learner["learner_model_param"].get("num_target", "1") != "1":
                raise _UnsupportedError
            node = _regressor_node(ensemble, base_score, input_name)
            outputs = [_tensor("variable", np.float32, 1)]
    except _UnsupportedError:
        return None
    return _model_bytes(node, input_name, n_features, outputs)


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


class _Ensemble:
    """Every node of every tree, as the flat arrays ONNX's TreeEnsemble takes."""

    def __init__(
        self,
        tree_ids: npt.NDArray[np.int64],
        node_ids: npt.NDArray[np.int64],
        left: npt.NDArray[np.int64],
        right: npt.NDArray[np.int64],
        features: npt.NDArray[np.int64],
        values: npt.NDArray[np.float32],
        default_left: npt.NDArray[np.int64],
        groups: npt.NDArray[np.int64],
    ) -> None:
        self.leaf = left < 0
        self.tree_ids, self.node_ids = tree_ids, node_ids
        self.left, self.right, self.features = left, right, features
        self.values, self.default_left = values, default_left
        self.groups = groups  # the output (class) each tree adds to

    @classmethod
    def of(cls, trees: list[dict[str, Any]], groups: npt.NDArray[np.int64]) -> _Ensemble:
        sizes = [len(tree["left_children"]) for tree in trees]
        tree_ids = np.repeat(np.arange(len(trees), dtype=np.int64), sizes)
        node_ids = np.concatenate([np.arange(size, dtype=np.int64) for size in sizes])

        def joined(key: str, dtype: Any) -> Any:
            return np.concatenate([np.asarray(tree[key], dtype=dtype) for tree in trees])

        return cls(
            tree_ids,
            node_ids,
            joined("left_children", np.int64),
            joined("right_children", np.int64),
            joined("split_indices", np.int64),
            # a leaf's value sits in split_conditions; thresholds are float32 in XGBoost
            joined("split_conditions", np.float32),
            joined("default_left", np.int64),
            groups,
        )

    def node_attributes(self) -> list[Any]:
        """The ``nodes_*`` attributes: XGBoost goes left when ``value < threshold``,
        and left for a missing value when ``default_left``."""
        branch = ~self.leaf
        modes = [b"LEAF" if leaf else b"BRANCH_LT" for leaf in self.leaf.tolist()]
        return [
            _ints("nodes_treeids", self.tree_ids),
            _ints("nodes_nodeids", self.node_ids),
            _ints("nodes_featureids", np.where(branch, self.features, 0)),
            _strings("nodes_modes", modes),
            _floats("nodes_values", np.where(branch, self.values, 0.0)),
            _ints("nodes_truenodeids", np.where(branch, self.left, 0)),
            _ints("nodes_falsenodeids", np.where(branch, self.right, 0)),
            _ints("nodes_missing_value_tracks_true", np.where(branch, self.default_left, 0)),
        ]

    def leaf_attributes(self, prefix: str, ids: npt.NDArray[np.int64]) -> list[Any]:
        """``{prefix}_treeids/nodeids/ids/weights`` for every leaf; ``ids`` per tree."""
        trees = self.tree_ids[self.leaf]
        return [
            _ints(f"{prefix}_treeids", trees),
            _ints(f"{prefix}_nodeids", self.node_ids[self.leaf]),
            _ints(f"{prefix}_ids", ids[trees]),
            _floats(f"{prefix}_weights", self.values[self.leaf]),
        ]


def _classifier_node(
    ensemble: _Ensemble,
    objective: str,
    base_score: list[float],
    classes: npt.NDArray[Any],
    input_name: str,
) -> Any:
    import onnx

    n_classes = len(classes)
    if objective == "binary:logistic":
        if n_classes != 2 or len(base_score) != 1 or np.any(ensemble.groups != 0):
            raise _UnsupportedError
        probability = np.float32(base_score[0])
        if not 0.0 < probability < 1.0:
            raise _UnsupportedError
        # One margin, LOGISTIC, two labels: onnxruntime answers (1 - p, p). The margin
        # is computed in float32 as XGBoost does (-log(1/p - 1)).
        one = np.float32(1.0)
        base_values = [float(-np.log(one / probability - one))]
        ids = np.zeros(len(ensemble.groups), dtype=np.int64)
        transform = b"LOGISTIC"
    else:  # multi:softprob: one tree per class per round, a margin per class
        if n_classes < 2 or len(base_score) not in (1, n_classes):
            raise _UnsupportedError
        if np.any(ensemble.groups >= n_classes):
            raise _UnsupportedError
        base_values = base_score * n_classes if len(base_score) == 1 else base_score
        ids = ensemble.groups
        transform = b"SOFTMAX"
    node = onnx.helper.make_node(
        "TreeEnsembleClassifier",
        [input_name],
        ["label", "probabilities"],
        domain="ai.onnx.ml",
        name="xgboost",
    )
    node.attribute.extend(
        [
            *ensemble.node_attributes(),
            *ensemble.leaf_attributes("class", ids),
            _ints("classlabels_int64s", classes.astype(np.int64)),
            _floats("base_values", np.asarray(base_values, dtype=np.float64)),
            _string("post_transform", transform),
        ]
    )
    return node


def _regressor_node(ensemble: _Ensemble, base_score: list[float], input_name: str) -> Any:
    import onnx

    if len(base_score) != 1 or np.any(ensemble.groups != 0):
        raise _UnsupportedError
    node = onnx.helper.make_node(
        "TreeEnsembleRegressor", [input_name], ["variable"], domain="ai.onnx.ml", name="xgboost"
    )
    node.attribute.extend(
        [
            *ensemble.node_attributes(),
            *ensemble.leaf_attributes("target", np.zeros(len(ensemble.groups), dtype=np.int64)),
            _int("n_targets", 1),
            _floats("base_values", np.asarray(base_score, dtype=np.float64)),
            _string("post_transform", b"NONE"),
        ]
    )
    return node


class _UnsupportedError(Exception):
    """A model shape this converter does not cover (caught: onnxmltools converts it)."""


def _classifier_outputs(n_classes: int) -> list[Any]:
    import onnx

    label = onnx.helper.make_tensor_value_info("label", onnx.TensorProto.INT64, [None])
    return [label, _tensor("probabilities", np.float32, n_classes)]


def _tensor(name: str, dtype: Any, width: int) -> Any:
    import onnx

    element = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return onnx.helper.make_tensor_value_info(name, element, [None, width])


def _model_bytes(node: Any, input_name: str, n_features: int, outputs: list[Any]) -> bytes:
    import onnx

    graph = onnx.helper.make_graph(
        [node], "xgboost", [_tensor(input_name, np.float32, n_features)], outputs
    )
    model = onnx.helper.make_model(
        graph,
        opset_imports=[
            onnx.helper.make_opsetid("", _ONNX_OPSET),
            onnx.helper.make_opsetid("ai.onnx.ml", _ML_OPSET),
        ],
        producer_name="modelyard",
    )
    model.ir_version = _IR_VERSION
    data: bytes = model.SerializeToString()
    return data


# Attributes are built as protobuf messages directly: onnx.helper.make_attribute
# checks the type of each of the ~25,000 values, which costs more than the rest.


def _int(name: str, value: int) -> Any:
    import onnx

    return onnx.AttributeProto(name=name, type=onnx.AttributeProto.INT, i=value)


def _ints(name: str, values: npt.NDArray[Any]) -> Any:
    import onnx

    attribute = onnx.AttributeProto(name=name, type=onnx.AttributeProto.INTS)
    attribute.ints.extend(np.asarray(values, dtype=np.int64).tolist())
    return attribute


def _floats(name: str, values: npt.NDArray[Any]) -> Any:
    import onnx

    attribute = onnx.AttributeProto(name=name, type=onnx.AttributeProto.FLOATS)
    attribute.floats.extend(np.asarray(values, dtype=np.float32).tolist())
    return attribute


def _strings(name: str, values: list[bytes]) -> Any:
    import onnx

    attribute = onnx.AttributeProto(name=name, type=onnx.AttributeProto.STRINGS)
    attribute.strings.extend(values)
    return attribute


def _string(name: str, value: bytes) -> Any:
    import onnx

    return onnx.AttributeProto(name=name, type=onnx.AttributeProto.STRING, s=value)
